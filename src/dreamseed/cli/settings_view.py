"""How `dreamseed config` and `dreamseed db url` show settings: every value, secrets masked."""

from __future__ import annotations

from pydantic import SecretStr

from dreamseed.settings import Settings, env_name, field_names


def effective_settings(settings: Settings) -> list[tuple[str, str, str]]:
    """(env var, value with secrets masked, help) for every setting, in declaration order."""
    rows = []
    for name in field_names():
        field = Settings.model_fields[name]
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            shown = mask_secret(env_name(name), value.get_secret_value())
        else:
            shown = "" if value is None else str(value)
        rows.append((env_name(name), shown, field.description or ""))
    return rows


def mask_secret(name: str, value: str) -> str:
    """Hide a secret; for a database URL keep everything but the password."""
    if name == "DATABASE_URL":
        from sqlalchemy.engine import make_url

        try:
            return make_url(value).render_as_string(hide_password=True)
        except Exception:
            return "****"
    return "****" if value else ""
