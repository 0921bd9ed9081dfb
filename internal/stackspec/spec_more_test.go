package stackspec

import (
	"context"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/decrypt"
	"github.com/flotilla-io/flotilla/internal/render"
)

func TestIdentity(t *testing.T) {
	for _, tc := range []struct {
		name, sa, want, wantName string
	}{
		{"the agent's own identity", "", "", "the agent's own identity"},
		{"a service account of the Stack's namespace", "deployer", "system:serviceaccount:team-a:deployer", "system:serviceaccount:team-a:deployer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "apps"}, Spec: v1alpha1.StackSpec{ServiceAccountName: tc.sa}}
			got := Identity(st)
			if got != tc.want {
				t.Errorf("Identity = %q, want %q", got, tc.want)
			}
			if name := IdentityName(got); name != tc.wantName {
				t.Errorf("IdentityName = %q, want %q", name, tc.wantName)
			}
		})
	}
}

func TestConfigForImpersonatesOnACopy(t *testing.T) {
	base := &rest.Config{Host: "https://api", BearerToken: "agent-token", Impersonate: rest.ImpersonationConfig{UserName: "left-over"}}
	as := ConfigFor(base, "system:serviceaccount:team-a:deployer")
	if as.Impersonate.UserName != "system:serviceaccount:team-a:deployer" {
		t.Errorf("impersonated user = %q", as.Impersonate.UserName)
	}
	if base.Impersonate.UserName != "left-over" {
		t.Errorf("ConfigFor changed its input: %q", base.Impersonate.UserName)
	}
	if as == base || as.Host != base.Host || as.BearerToken != base.BearerToken {
		t.Errorf("ConfigFor did not return a full copy: %+v", as)
	}
	own := ConfigFor(base, "")
	if own == base || own.Impersonate.UserName != "left-over" {
		t.Errorf("an empty identity must keep cfg's own impersonation on a copy: %+v", own.Impersonate)
	}
}

func TestReasonText(t *testing.T) {
	nf := apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, "x")
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"not found is short", nf, "not found"},
		{"a wrapped not found is short too", errors.Join(errors.New("reading"), nf), "not found"},
		{"anything else is its message", errors.New("connection refused"), "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ReasonText(tc.err); got != tc.want {
				t.Errorf("ReasonText = %q, want %q", got, tc.want)
			}
		})
	}
}

// clientOf returns a fake client holding objs whose Gets fail with getErr
// when it is not nil.
func clientOf(getErr error, objs ...client.Object) client.Client {
	b := fake.NewClientBuilder().WithObjects(objs...)
	if getErr != nil {
		b = b.WithInterceptorFuncs(interceptor.Funcs{Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
			return getErr
		}})
	}
	return b.Build()
}

func TestVariablesLaterReferencesWinAndOnlySecretsAreRedacted(t *testing.T) {
	c := clientOf(nil,
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "defaults"}, Data: map[string]string{"REGION": "us", "PUBLIC": "plain-value"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "overrides"}, Data: map[string]string{"REGION": "eu"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "elsewhere"}, Data: map[string]string{"X": "1"}},
	)
	obj := stackWith(&v1alpha1.PostBuild{SubstituteFrom: []v1alpha1.SubstituteReference{
		{Kind: "ConfigMap", Name: "defaults"}, {Kind: "ConfigMap", Name: "overrides"},
		{Kind: "ConfigMap", Name: "elsewhere", Optional: true},
	}})
	vars, red, err := Variables(context.Background(), c, obj)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"REGION": "eu", "PUBLIC": "plain-value"}, vars); diff != "" {
		t.Errorf("variables (-want +got):\n%s", diff)
	}
	if got := red.String("plain-value"); got != "plain-value" {
		t.Errorf("a ConfigMap's value was redacted: %q", got)
	}
}

func TestVariablesEmptyPostBuildIsAnEmptyMap(t *testing.T) {
	vars, _, err := Variables(context.Background(), clientOf(nil), stackWith(&v1alpha1.PostBuild{}))
	if err != nil || vars == nil || len(vars) != 0 {
		t.Errorf("Variables = %#v, %v; want an empty, non-nil map (substitution on, no values)", vars, err)
	}
}

func TestVariablesOptionalDoesNotHideOtherErrors(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "vars", errors.New("RBAC"))
	obj := stackWith(&v1alpha1.PostBuild{SubstituteFrom: []v1alpha1.SubstituteReference{{Kind: "ConfigMap", Name: "vars", Optional: true}}})
	_, _, err := Variables(context.Background(), clientOf(forbidden), obj)
	var ve *VariablesError
	if !errors.As(err, &ve) || !apierrors.IsForbidden(err) {
		t.Fatalf("err = %v, want a *VariablesError wrapping Forbidden", err)
	}
	if ve.Ref.Name != "vars" || ve.Namespace != "team-a" {
		t.Errorf("the error names %s/%s, want team-a/vars", ve.Namespace, ve.Ref.Name)
	}
	if !strings.HasPrefix(err.Error(), "postBuild.substituteFrom ConfigMap team-a/vars: ") {
		t.Errorf("message = %q", err.Error())
	}
}

func TestFromInventory(t *testing.T) {
	entries := []v1alpha1.InventoryEntry{
		{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "a", Name: "web"},
		{Version: "v1", Kind: "Namespace", Name: "a"},
	}
	want := []apply.ObjMetadata{
		{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "a", Name: "web"},
		{Version: "v1", Kind: "Namespace", Name: "a"},
	}
	if diff := cmp.Diff(want, FromInventory(entries)); diff != "" {
		t.Errorf("FromInventory (-want +got):\n%s", diff)
	}
	if got := FromInventory(nil); got == nil || len(got) != 0 {
		t.Errorf("FromInventory(nil) = %#v, want an empty slice", got)
	}
	if diff := cmp.Diff(entries[1:], ToInventory(FromInventory(entries))[:1]); diff != "" {
		t.Errorf("the core group sorts first (-want +got):\n%s", diff)
	}
}

func TestToInventoryIgnoresVersionWhenSorting(t *testing.T) {
	got := ToInventory([]apply.ObjMetadata{
		{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "b", Name: "x"},
		{Group: "apps", Version: "v1beta1", Kind: "Deployment", Namespace: "a", Name: "x"},
	})
	if got[0].Namespace != "a" || got[1].Namespace != "b" {
		t.Errorf("order = %+v, want namespace a before b whatever the version", got)
	}
}

func TestPruneCapOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec int
		want int
	}{
		{"unset is the default", 0, DefaultMaxPrunePercent},
		{"a negative value is the default", -5, DefaultMaxPrunePercent},
		{"a set value", 20, 20},
		{"a hundred", 100, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &v1alpha1.Stack{Spec: v1alpha1.StackSpec{MaxPrunePercent: tc.spec}}
			if got := PruneCapOf(st).Percent; got != tc.want {
				t.Errorf("Percent = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestPruneCapEdges(t *testing.T) {
	for _, tc := range []struct {
		name             string
		percent          int
		stale, inventory int
		want             bool
	}{
		{"nothing stale", 50, 0, 100, false},
		{"a zero cap refuses any prune of a large inventory", 0, 1, 10, true},
		{"over a hundred is off too", 150, 10, 10, false},
		{"just under the minimum inventory", 1, 9, 9, false},
		{"everything stale at the minimum", 99, 10, 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (PruneCap{Percent: tc.percent}).HoldsBack(tc.stale, tc.inventory); got != tc.want {
				t.Errorf("HoldsBack(%d, %d) at %d%% = %v, want %v", tc.stale, tc.inventory, tc.percent, got, tc.want)
			}
		})
	}
}

func TestEmptyRenderErrorAtTheRoot(t *testing.T) {
	for _, path := range []string{"", ".", "./"} {
		st := &v1alpha1.Stack{Spec: v1alpha1.StackSpec{Path: path}, Status: v1alpha1.StackStatus{Inventory: make([]v1alpha1.InventoryEntry, 2)}}
		err := CheckEmptyRender(st, 0, "main@sha1:abc")
		var ee *EmptyRenderError
		if !errors.As(err, &ee) || ee.Inventory != 2 {
			t.Fatalf("path %q: err = %v, want an *EmptyRenderError of 2 objects", path, err)
		}
		if !strings.HasPrefix(err.Error(), "the repository root renders no objects") {
			t.Errorf("path %q: message = %q", path, err.Error())
		}
	}
	if got := PathOrRoot("apps"); got != "path apps" {
		t.Errorf("PathOrRoot(apps) = %q", got)
	}
}

func TestRenderOptionsOfABareStack(t *testing.T) {
	st := &v1alpha1.Stack{Spec: v1alpha1.StackSpec{Path: "./apps"}}
	got := RenderOptions(st, "/tmp/artifact", nil)
	want := render.Options{Root: "/tmp/artifact", Path: "./apps"}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(render.Options{})); diff != "" {
		t.Errorf("render options (-want +got):\n%s", diff)
	}
}

func TestRenderOptionsPatchWithoutTarget(t *testing.T) {
	st := &v1alpha1.Stack{Spec: v1alpha1.StackSpec{Patches: []v1alpha1.Patch{{Patch: "kind: ConfigMap"}}}}
	got := RenderOptions(st, "/r", nil)
	if len(got.Patches) != 1 || got.Patches[0].Target != nil || got.Patches[0].Patch != "kind: ConfigMap" {
		t.Errorf("patches = %+v, want one patch without a target", got.Patches)
	}
}

func withDecryption(d *v1alpha1.Decryption) *v1alpha1.Stack {
	return &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "apps"}, Spec: v1alpha1.StackSpec{Decryption: d}}
}

func TestDecryptionKeys(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	secret := func(ns string, data map[string][]byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sops-keys"}, Data: data}
	}
	ref := &v1alpha1.Decryption{Provider: "sops", SecretRef: &v1alpha1.LocalObjectReference{Name: "sops-keys"}}
	for _, tc := range []struct {
		name      string
		stack     *v1alpha1.Stack
		objs      []client.Object
		wantNil   bool
		wantEmpty bool
		wantErr   string
	}{
		{"no decryption: nil keys", withDecryption(nil), nil, true, false, ""},
		{"decryption without a secretRef: no keys", withDecryption(&v1alpha1.Decryption{Provider: "sops"}), nil, false, true, ""},
		{"an age key", withDecryption(ref), []client.Object{secret("team-a", map[string][]byte{"prod.agekey": []byte(id.String())})}, false, false, ""},
		{"the Secret is read from the Stack's namespace only", withDecryption(ref), []client.Object{secret("other", map[string][]byte{"prod.agekey": []byte(id.String())})}, false, false,
			"decryption.secretRef Secret team-a/sops-keys: not found (create it with the private keys as <name>.agekey or <name>.asc entries)"},
		{"a broken age key names the entry", withDecryption(ref), []client.Object{secret("team-a", map[string][]byte{"prod.agekey": []byte("AGE-SECRET-KEY-1NOTAKEY-do-not-quote")})}, false, false,
			"decryption.secretRef Secret team-a/sops-keys: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := DecryptionKeys(context.Background(), clientOf(nil, tc.objs...), tc.stack)
			if tc.wantErr != "" {
				var de *DecryptionError
				if !errors.As(err, &de) || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want a *DecryptionError starting with %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "do-not-quote") {
					t.Errorf("the error quotes the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (keys == nil) != tc.wantNil {
				t.Fatalf("keys = %v, want nil: %v", keys, tc.wantNil)
			}
			if keys != nil && keys.Empty() != tc.wantEmpty {
				t.Errorf("Empty() = %v, want %v", keys.Empty(), tc.wantEmpty)
			}
		})
	}
}

func TestSetDecryption(t *testing.T) {
	var opts render.Options
	SetDecryption(&opts, nil)
	if opts.Decryption != nil {
		t.Errorf("nil keys set Decryption to %v: the render would think decryption is configured", opts.Decryption)
	}
	keys, err := decrypt.ParseKeys(nil)
	if err != nil {
		t.Fatal(err)
	}
	SetDecryption(&opts, keys)
	if opts.Decryption != keys {
		t.Errorf("Decryption = %v, want the keys", opts.Decryption)
	}
}
