// Package drift watches the objects Stacks applied and notices, within a
// watch event, when someone else changes a field a Stack applied or deletes
// an object it owns. Detection reads managedFields: after an apply Flotilla's
// field manager owns a known set of fields; a field that left that set was
// taken by another manager, who is named in the record. Fields Flotilla never
// applied (an HPA's replicas, values defaulted by admission) are not in the
// set and are never fought over. Correction re-applies the one object from
// memory, without re-rendering the Stack.
//
// Informers list and watch as the identity the Stack applies as (its
// ServiceAccount, by impersonation, or the agent's own), cluster-wide when
// that identity may, else per namespace of the inventory; where it may not,
// Track returns a *WatchError instead of watching nothing in silence.
// Informers are filtered to objects that carry a Stack's owner label, keyed
// by identity, kind and namespace, shared by the Stacks that need them and
// stopped when none does. The package does not render, dry-run or prune; it
// reports through a Sink.
package drift
