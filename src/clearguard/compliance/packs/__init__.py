"""Rule packs shipped with ClearGuard: one folder per pack, one YAML file per version."""
