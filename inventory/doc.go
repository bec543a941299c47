// Package inventory is broker's local inventory: the hosts this user has
// checked out, in the order they were recorded, each a JSON document
// (Host) with upstream's fields (hostname, name, _broker_provider,
// _broker_provider_instance, _broker_args, ...).
//
// The records live in one bbolt file shared by every broker process of the
// user (layout.go documents its buckets). A Store opens that file for each
// operation and closes it straight after one short transaction; a read
// takes a shared lock and a write an exclusive one, and an operation that
// cannot get the lock within Options.Timeout fails with ErrLocked. Callers
// must never hold the inventory across a provider call: read what you
// need, call the provider, then record what really happened.
//
// Upstream's local ids are positions: List returns the records oldest
// first, and a record's id is its index in that list (or in a filtered view
// of it). Removing a record shifts the ids after it, as upstream. Record.Key
// is the stable internal handle for Remove and Update.
//
// The package also reads upstream's inventory.yaml for import (ReadYAML,
// Store.Import) and renders upstream's inventory_fields display
// mini-language (Render, HumanizeTime, HumanizeTimes).
package inventory
