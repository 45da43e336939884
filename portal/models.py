"""Every domain's models, imported so Alembic and create_app see the whole schema."""
from portal.db import Base
from portal.domains import model_modules

MODEL_MODULES = model_modules()

__all__ = ["Base", "MODEL_MODULES"]
