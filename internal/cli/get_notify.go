package cli

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// notifyKinds are the notification kinds get, reconcile, suspend and
// resume act on: Providers, Alerts and Receivers.
func notifyKinds() []objectKind {
	return []objectKind{
		{
			Kind: v1alpha1.ProviderKind, Arg: "provider", Plural: "providers",
			aliases:   []string{"providers"},
			newObject: func() client.Object { return &v1alpha1.Provider{} },
			newList:   func() client.ObjectList { return &v1alpha1.ProviderList{} },
		},
		{
			Kind: v1alpha1.AlertKind, Arg: "alert", Plural: "alerts",
			aliases:   []string{"alerts"},
			newObject: func() client.Object { return &v1alpha1.Alert{} },
			newList:   func() client.ObjectList { return &v1alpha1.AlertList{} },
		},
		{
			Kind: v1alpha1.ReceiverKind, Arg: "receiver", Plural: "receivers",
			aliases:   []string{"receivers"},
			newObject: func() client.Object { return &v1alpha1.Receiver{} },
			newList:   func() client.ObjectList { return &v1alpha1.ReceiverList{} },
		},
	}
}

// notifyState reads the state of a Provider, Alert or Receiver: its
// conditions, and a Receiver's webhook path in place of a revision.
func notifyState(obj client.Object, st objectState) (objectState, []metav1.Condition) {
	switch o := obj.(type) {
	case *v1alpha1.Provider:
		st.Suspended, st.ObservedGeneration, st.LastHandled = o.Spec.Suspend, o.Status.ObservedGeneration, o.Status.LastHandledReconcileAt
		return st, o.Status.Conditions
	case *v1alpha1.Alert:
		st.Suspended, st.ObservedGeneration, st.LastHandled = o.Spec.Suspend, o.Status.ObservedGeneration, o.Status.LastHandledReconcileAt
		return st, o.Status.Conditions
	case *v1alpha1.Receiver:
		st.Suspended, st.ObservedGeneration, st.LastHandled = o.Spec.Suspend, o.Status.ObservedGeneration, o.Status.LastHandledReconcileAt
		st.Path = o.Status.WebhookPath
		return st, o.Status.Conditions
	}
	return st, nil
}

// notifyKindName is the kind of a Provider, Alert or Receiver, for
// objectName; "" for other objects.
func notifyKindName(obj client.Object) string {
	switch obj.(type) {
	case *v1alpha1.Provider:
		return v1alpha1.ProviderKind
	case *v1alpha1.Alert:
		return v1alpha1.AlertKind
	case *v1alpha1.Receiver:
		return v1alpha1.ReceiverKind
	}
	return ""
}

// revisionHeader names the REVISION column, which shows a Receiver's
// webhook path instead.
func revisionHeader(entries []GetEntry) string {
	if len(entries) > 0 && entries[0].Kind == v1alpha1.ReceiverKind {
		return "PATH"
	}
	return "REVISION"
}

// revisionCell is a row's revision, short, or its webhook path in full.
func revisionCell(e GetEntry) string {
	if e.Path != "" {
		return e.Path
	}
	return shortRevision(e.Revision)
}
