"""Locks on result records, for SERIALIZABLE transactions (``prefect.locking``)."""
