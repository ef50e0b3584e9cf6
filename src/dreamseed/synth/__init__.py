"""Synthetic platform data with known truth: what `dreamseed synth` and `dreamseed demo` generate.

Pure core (numpy/pandas; no clock: the period is `weeks` weeks ending on an explicit `end_date`).
Same config → byte-identical files. Constants live in `SynthModel`; the model:

Items. T topics (default 8) × K items (default 60), topics grouped four to a subject
(`exam_id` 101, 102, …). True 3PL parameters: log a ~ N(0.18, 0.25) (median a ≈ 1.2),
b ~ N(0, 1), c ~ Beta(5, 20) (mean 0.2), rounded to 4 decimals. ~10% are anchors: questions.csv
carries their true a, b, c and the tag `anchor`; other items have empty a, b, c and a
`difficulty` = b + N(0, 0.3) (an author's rating; anchors show the true b).

Students. θ0 ~ N(0, 1). Growth per week: 15% flat (0), 5% negative (~ −0.06), the rest
N(0.08, 0.05) ≥ 0.005. θ(t) = θ0 + growth · max(0, min(t, churn) − start)/7 days: growth starts
when the student joins and is frozen once they churn. 65% join on day 0, the rest on a uniform
later day (with a forced first session that day). Base activity ~ Gamma(1.5, mean 1.1)
sessions per week, clipped to [0.15, 14]. Each student studies one subject with Dirichlet
interests over its topics; latent traits: speed (log-time offset), hint propensity, churn
frailty, and where the platform aims items relative to their lagged θ.

Activity and churn, simulated week by week for all students at once. At each week's start, a
student who joined earlier and is not already leaving starts to disengage with probability
logistic(−3.4 − 0.8·log(rate/1.1) − 3.5·(accuracy over 14 days − 0.65) − 2·(accuracy change
week on week) + 0.45·(days since last session)/7 + 0.4·[in first two weeks] + frailty
~ N(0, 0.6)): low activity, low or falling success and a recent gap all raise it, but not
deterministically. A disengaging student's session rate ramps from 55% to ~10% over 7–21 days,
then they stop for good: the churn date is the first day with no activity ever after.
Expected sessions per day = rate · Gamma(4)/4 weekly wobble / 7 · weekday weight (weekends
higher); 70% of students keep a routine (a week brings the growth of floor(cumulative
expectation), spread over its days), the rest are Poisson-bursty. Start times are Korean study hours (weekday evenings ~21:00 KST, afternoons
~16:30, weekends more afternoons) stored in UTC within the same UTC day; a student's sessions
on one day do not overlap; updated_at − created_at = the sum of the question times.

Sessions. 5–40 questions (15% 10, 35% 20, 20% 30, 30% uniform 5–40: ~21 on average), one
topic or (35%) two. The platform aims at θ two weeks ago + a per-student bias (mean −0.3, so
accuracy ≈ 0.65 and rises for students who grow) + N(0, 0.3), and each topic block takes
distinct items at random among the m + m/2 + 5 items whose b is nearest that aim (a small
slice of the bank). Correctness ~ Bernoulli(3PL at the true θ at that time). Time (s) =
exp(3.85 + 0.25(b − θ) − 0.15θ − 0.2·correct + speed + N(0, 0.5)), in [2, 900], 1 decimal.
Hints: P(any) = logistic(−2.2 + 0.8(b − θ) + propensity), then 1–3. 20% of question objects
say `correct` instead of `is_correct`.

Goals. 85% of students set one goal: their favourite topic, target θ = θ0 + U(0, 0.8)
(rounded to 0.1), created 0–3 days before joining, target date 2 to max(3, 1.25·weeks) weeks
later (10% without a date). reached_goal = true θ at the end of the target date ≥ target
(known only when the target date is within the period).

Bad rows. `bad_rows` malformed lines or questions spread evenly through exam_results.jsonl,
cycling through: unparsable JSON, missing user_id, missing session_id (extra corrupted copies
of real lines, with new session ids), non-numeric question_id, negative time_spent_sec,
non-boolean correctness (one question of a real session corrupted in place); each listed in
truth/bad_rows.csv with its 1-based line number.
"""

from dreamseed.synth.bad_rows import BAD_KINDS
from dreamseed.synth.config import SynthConfig, SynthModel
from dreamseed.synth.platform import SynthPlatform, generate_platform
from dreamseed.synth.simulate import Progress
from dreamseed.synth.writer import WrittenFile, write_platform

__all__ = [
    "BAD_KINDS",
    "Progress",
    "SynthConfig",
    "SynthModel",
    "SynthPlatform",
    "WrittenFile",
    "generate_platform",
    "write_platform",
]
