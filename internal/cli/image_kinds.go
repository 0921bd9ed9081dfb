package cli

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// imageKinds are the image automation kinds, for objectKinds: reconcile,
// suspend, resume and events act on them by these words, and `reconcile
// image repository|policy|update NAME` by the second word.
func imageKinds() []objectKind {
	return []objectKind{
		{
			Kind: v1alpha1.ImageRepositoryKind, Arg: "imagerepository", Plural: "ImageRepositories",
			aliases:   []string{"imagerepositories", "imgrepo", "image-repository"},
			newObject: func() client.Object { return &v1alpha1.ImageRepository{} },
			newList:   func() client.ObjectList { return &v1alpha1.ImageRepositoryList{} },
		},
		{
			Kind: v1alpha1.ImagePolicyKind, Arg: "imagepolicy", Plural: "ImagePolicies",
			aliases:   []string{"imagepolicies", "imgpol", "image-policy"},
			newObject: func() client.Object { return &v1alpha1.ImagePolicy{} },
			newList:   func() client.ObjectList { return &v1alpha1.ImagePolicyList{} },
		},
		{
			Kind: v1alpha1.ImageUpdateKind, Arg: "imageupdate", Plural: "ImageUpdates",
			aliases:   []string{"imageupdates", "image-update"},
			newObject: func() client.Object { return &v1alpha1.ImageUpdate{} },
			newList:   func() client.ObjectList { return &v1alpha1.ImageUpdateList{} },
		},
	}
}

// imageSubKind maps the word after "image" (repository, policy, update,
// or their plurals) to the kind's word; ok is false for any other word.
func imageSubKind(word string) (string, bool) {
	switch strings.TrimSuffix(strings.TrimSuffix(strings.ToLower(word), "s"), "ie") {
	case "repository", "repositor", "repo":
		return "imagerepository", true
	case "policy", "polic":
		return "imagepolicy", true
	case "update":
		return "imageupdate", true
	}
	return "", false
}

// imageArgs turns `image KIND NAME` into `imageKIND NAME`; other arguments
// are returned as they are.
func imageArgs(args []string) []string {
	if len(args) == 3 && isImagesWord(args[0]) {
		if kind, ok := imageSubKind(args[1]); ok {
			return []string{kind, args[2]}
		}
	}
	return args
}

// isImagesWord says whether word names the image kinds together.
func isImagesWord(word string) bool {
	w := strings.ToLower(word)
	return w == "image" || w == "images"
}

// imageState fills st from an image object; ok is false for other kinds.
func imageState(obj client.Object, st *objectState) (conds []metav1.Condition, ok bool) {
	switch o := obj.(type) {
	case *v1alpha1.ImageRepository:
		st.Suspended, st.ObservedGeneration, st.LastHandled = o.Spec.Suspend, o.Status.ObservedGeneration, o.Status.LastHandledReconcileAt
		if o.Status.LastScanResult != nil {
			st.Revision = o.Status.LastScanResult.Revision
		}
		return o.Status.Conditions, true
	case *v1alpha1.ImagePolicy:
		st.ObservedGeneration, st.LastHandled = o.Status.ObservedGeneration, o.Status.LastHandledReconcileAt
		if o.Status.LatestRef != nil {
			st.Revision = o.Status.LatestRef.String()
		}
		return o.Status.Conditions, true
	case *v1alpha1.ImageUpdate:
		st.Suspended, st.ObservedGeneration, st.LastHandled = o.Spec.Suspend, o.Status.ObservedGeneration, o.Status.LastHandledReconcileAt
		st.Revision = o.Status.LastPushCommit
		return o.Status.Conditions, true
	}
	return nil, false
}

// imageKindName is the kind of an image object, for objectName; "" for
// other objects.
func imageKindName(obj client.Object) string {
	switch obj.(type) {
	case *v1alpha1.ImageRepository:
		return v1alpha1.ImageRepositoryKind
	case *v1alpha1.ImagePolicy:
		return v1alpha1.ImagePolicyKind
	case *v1alpha1.ImageUpdate:
		return v1alpha1.ImageUpdateKind
	}
	return ""
}

// reconcileVerb says what a finished reconcile of kind did, for
// `flotilla reconcile`'s last line.
func reconcileVerb(kind string) string {
	switch kind {
	case v1alpha1.GitRepositoryKind:
		return "fetched revision"
	case v1alpha1.ImageRepositoryKind:
		return "scanned, tag list"
	case v1alpha1.ImagePolicyKind:
		return "chose image"
	case v1alpha1.ImageUpdateKind:
		return "pushed commit"
	}
	return "applied revision"
}

// refuseUnsuspendable refuses suspend and resume of a kind without
// spec.suspend (an ImagePolicy), which the API server would drop silently.
func refuseUnsuspendable(kind objectKind, obj client.Object) error {
	if kind.Kind != v1alpha1.ImagePolicyKind {
		return nil
	}
	return fmt.Errorf("%s has no spec.suspend: suspend its ImageRepository, or the ImageUpdate that writes its choice", objectName(obj))
}
