"""Access control: roles, permissions, mandates, policy decisions and field redaction."""
