"""kamrules: key-account-management decision support from YAML rule packs."""

__version__ = "0.1.0"
