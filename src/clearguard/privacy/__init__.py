"""Privacy: the field inventory, subject access reports (GDPR Art. 15), rectification and erasure
requests (Art. 16, 17), and the records of processing (Art. 30), generated from the declaration
models' tags, the access policy, the retention policies and the configuration."""

from clearguard.privacy.ports import RetentionView

__all__ = ["RetentionView"]
