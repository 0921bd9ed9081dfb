package cli

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/redact"
	"github.com/flotilla-io/flotilla/internal/render"
)

// variablesSecret is the Secret "variables" of newStack, TOKEN set to
// markerSubstituted, in namespace ns.
func variablesSecret(ns string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "variables"},
		Data: map[string][]byte{"TOKEN": []byte(markerSubstituted)}}
}

// renderedNames are the objects as Kind/namespace/name.
func renderedNames(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, u := range objs {
		out = append(out, u.GetKind()+"/"+u.GetNamespace()+"/"+u.GetName())
	}
	return out
}

func TestRenderStackAsTheAgentDoes(t *testing.T) {
	c := newFakeClient(t, variablesSecret("ns"))
	st := newStack("ns", "apps", "./overlay", "shop")
	objs, red, err := renderStack(t.Context(), c, st, filepath.Join("testdata", "build"), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ConfigMap/shop/settings", "Secret/shop/credentials", "Deployment/shop/web"}
	if diff := cmp.Diff(want, renderedNames(objs)); diff != "" {
		t.Errorf("rendered (-want +got):\n%s", diff)
	}
	data, _, _ := unstructured.NestedStringMap(objs[0].Object, "data")
	if diff := cmp.Diff(map[string]string{"region": "eu-west", "tier": "silver", "token": markerSubstituted}, data); diff != "" {
		t.Errorf("ConfigMap data, substituted (-want +got):\n%s", diff)
	}
	for _, secret := range []string{markerSubstituted, markerInManifest} {
		if got := red.Values("value " + secret); got != "value "+redact.Mask {
			t.Errorf("the redactor leaves %q as %q: it must know the Secrets' values", secret, got)
		}
	}
}

// TestRenderStackFromItsOwnDirectory: --path may be the Stack's own
// directory in the checkout; the root is then found above it.
func TestRenderStackFromItsOwnDirectory(t *testing.T) {
	c := newFakeClient(t, variablesSecret("ns"))
	st := newStack("ns", "apps", "./overlay", "")
	objs, _, err := renderStack(t.Context(), c, st, filepath.Join("testdata", "build", "overlay"), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 3 {
		t.Errorf("rendered %v, want the overlay's 3 objects", renderedNames(objs))
	}
}

func TestRenderStackErrors(t *testing.T) {
	decrypting := newStack("ns", "apps", "./overlay", "")
	decrypting.Spec.Decryption = &v1alpha1.Decryption{Provider: "sops", SecretRef: &v1alpha1.LocalObjectReference{Name: "sops-keys"}}
	cases := []struct {
		name    string
		objs    []client.Object
		stack   *v1alpha1.Stack
		repo    string
		want    []string
		notFind bool
	}{
		{"the variables Secret is missing", nil, newStack("ns", "apps", "./overlay", ""), filepath.Join("testdata", "build"),
			[]string{"variables of Stack ns/apps: ", "Secret ns/variables"}, false},
		{"the path is not in the checkout", []client.Object{variablesSecret("ns")}, newStack("ns", "apps", "./clusters/prod", ""), filepath.Join("testdata", "build"),
			[]string{`building Stack ns/apps (path "./clusters/prod" of `, "or --path (the root of a local checkout of the repository, or the Stack's own directory in it)"}, true},
		{"--path is not a directory", nil, newStack("ns", "apps", "./overlay", ""), filepath.Join("testdata", "build", "base", "secret.yaml"),
			[]string{"is not a directory: give the root of a local checkout"}, false},
		{"the decryption Secret is missing", []client.Object{variablesSecret("ns")}, decrypting, filepath.Join("testdata", "build"),
			[]string{"decryption keys of Stack ns/apps: ", "or give the keys with --decryption-keys FILE"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := renderStack(t.Context(), newFakeClient(t, tc.objs...), tc.stack, tc.repo, "")
			if err == nil {
				t.Fatal("renderStack succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if got := errors.Is(err, render.ErrNotFound); got != tc.notFind {
				t.Errorf("errors.Is(err, render.ErrNotFound) = %t, want %t", got, tc.notFind)
			}
		})
	}
}

func TestRedactedError(t *testing.T) {
	cause := errors.New("reading /tmp/x: " + markerSubstituted)
	err := error(&redactedError{msg: "reading /tmp/x: " + redact.Mask, err: cause})
	if err.Error() != "reading /tmp/x: "+redact.Mask {
		t.Errorf("Error() = %q, want the redacted message", err)
	}
	if !errors.Is(err, cause) {
		t.Error("the cause is lost: errors.Is fails")
	}
}

func TestReadStackUsesTheDefaultNamespace(t *testing.T) {
	c := newFakeClient(t, fixtureStack(DefaultNamespace, "infra", time.Hour, false, revMain))
	st, err := readStack(t.Context(), c, KubeFlags{}, "infra")
	if err != nil || st.Namespace != DefaultNamespace {
		t.Errorf("readStack = %v, %v; want infra in %s", st, err, DefaultNamespace)
	}
}
