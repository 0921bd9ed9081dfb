package cli

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// objectKind is one kind of Flotilla object that get, reconcile, suspend,
// resume and events act on, with the words the command line accepts for it.
type objectKind struct {
	// Kind is the API kind: Stack or GitRepository.
	Kind string
	// Arg is the word the docs use: stack or source.
	Arg string
	// Plural is how messages name several of them.
	Plural string
	// aliases are the other words accepted on the command line.
	aliases   []string
	newObject func() client.Object
	newList   func() client.ObjectList
}

// GVK returns the kind's group, version and kind.
func (k objectKind) GVK() schema.GroupVersionKind {
	return v1alpha1.GroupVersion.WithKind(k.Kind)
}

// objectKinds lists the kinds the verbs know, in the order help shows them.
func objectKinds() []objectKind {
	return append([]objectKind{
		{
			Kind: v1alpha1.GitRepositoryKind, Arg: "source", Plural: "sources",
			aliases:   []string{"sources", "gitrepository", "gitrepositories", "gitrepo", "gr"},
			newObject: func() client.Object { return &v1alpha1.GitRepository{} },
			newList:   func() client.ObjectList { return &v1alpha1.GitRepositoryList{} },
		},
		{
			Kind: v1alpha1.StackKind, Arg: "stack", Plural: "Stacks",
			aliases:   []string{"stacks", "st"},
			newObject: func() client.Object { return &v1alpha1.Stack{} },
			newList:   func() client.ObjectList { return &v1alpha1.StackList{} },
		},
	}, append(imageKinds(), notifyKinds()...)...)
}

// kindArgs are the words of every kind, for completion and help.
func kindArgs() []string {
	var args []string
	for _, k := range objectKinds() {
		args = append(args, k.Arg, strings.ToLower(k.Plural))
	}
	return slices.Compact(args)
}

// kindFor maps a command-line word (stack, stacks, source, gitrepositories,
// Stack, ...) to its kind.
func kindFor(word string) (objectKind, error) {
	w := strings.ToLower(word)
	for _, k := range objectKinds() {
		if w == k.Arg || w == strings.ToLower(k.Kind) || slices.Contains(k.aliases, w) {
			return k, nil
		}
	}
	return objectKind{}, fmt.Errorf("unknown kind %q: use source or stack", word)
}

// stackAliases are the other words for a Stack that get, reconcile and
// suspend accept (stacks, st), for the `stack` subcommands of build, diff
// and tree.
func stackAliases() []string {
	for _, k := range objectKinds() {
		if k.Kind == v1alpha1.StackKind {
			return slices.Clone(k.aliases)
		}
	}
	return nil
}
