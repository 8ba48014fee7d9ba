"""Imports every capability's tables, so Base.metadata is complete for Alembic and the tests.

Each capability adds one import line here for its tables module.
"""

from clearguard import db
from clearguard.access import tables as _access  # noqa: F401
from clearguard.audit import tables as _audit  # noqa: F401
from clearguard.crypto import tables as _crypto  # noqa: F401
from clearguard.declarations import tables as _declarations  # noqa: F401
from clearguard.detection import tables as _detection  # noqa: F401
from clearguard.identity import tables as _identity  # noqa: F401
from clearguard.ledger import tables as _ledger  # noqa: F401
from clearguard.privacy import tables as _privacy  # noqa: F401
from clearguard.retention import tables as _retention  # noqa: F401
from clearguard.risk import tables as _risk  # noqa: F401
from clearguard.sharing import tables as _sharing  # noqa: F401
from clearguard.training import tables as _training  # noqa: F401
from clearguard.travellers import tables as _travellers  # noqa: F401

metadata = db.Base.metadata
