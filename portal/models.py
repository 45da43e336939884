"""Every domain's models, imported so Alembic and create_app see the whole schema."""
from portal.db import Base
from portal.domains import modules

MODEL_MODULES = modules("models")

__all__ = ["Base", "MODEL_MODULES"]
