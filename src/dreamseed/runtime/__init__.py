"""The job framework: the runner (lock, job_runs row, logs, metrics, exit code), the click command every
job shares, the registry and the daily chain, and what every command needs at the edge (settings and
the database engine). Jobs (`dreamseed.jobs.<job>`) sit on top of it; it never imports a job module
statically (the registry loads them by name)."""
