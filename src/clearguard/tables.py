"""Imports every capability's tables, so Base.metadata is complete for Alembic and the tests.

Each capability adds one import line here for its models module.
"""

from clearguard import db
from clearguard.access import models as _access  # noqa: F401
from clearguard.audit import models as _audit  # noqa: F401
from clearguard.crypto import tables as _crypto  # noqa: F401
from clearguard.declarations import tables as _declarations  # noqa: F401
from clearguard.identity import models as _identity  # noqa: F401
from clearguard.ledger import models as _ledger  # noqa: F401
from clearguard.risk import tables as _risk  # noqa: F401

metadata = db.Base.metadata
