"""The use cases in order, written once: track an event, publish codes to a customer.

Each runs against a storage transaction (:class:`sendout.storage.tx.Tx`) and returns what the
API answers with. The pure stages (metadata, matching, purposes, payloads, promotions) decide;
storage reads and writes; nothing below this package knows the order.
"""
