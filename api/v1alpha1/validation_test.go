package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

var env *controlplane.Env

func TestMain(m *testing.M) {
	os.Exit(controlplane.RunTests(m, &env))
}

// admissionCase is one object sent to the API server. An empty wantErr
// means the object must be accepted; otherwise it must be refused as
// Invalid with a message containing every string in wantErr.
type admissionCase struct {
	name    string
	spec    map[string]any
	wantErr []string
	// notErr are strings the refusal must not contain (noise from other rules).
	notErr []string
	// check, when set, inspects the stored object of an accepted case.
	check func(t *testing.T, stored *unstructured.Unstructured)
}

const validCommit = "0123456789abcdef0123456789abcdef01234567"

func gitRepositoryCases() []admissionCase {
	repo := func(spec map[string]any) map[string]any {
		base := map[string]any{"url": "https://git.example.com/fleet.git", "interval": "1m"}
		for k, v := range spec {
			base[k] = v
		}
		return base
	}
	secretRef := map[string]any{"name": "git-auth"}
	return []admissionCase{
		{name: "https with secretRef is accepted", spec: repo(map[string]any{"secretRef": secretRef})},
		{name: "ssh with user name is accepted", spec: repo(map[string]any{"url": "ssh://git@git.example.com/fleet.git"})},
		{name: "file without secretRef is accepted", spec: repo(map[string]any{"url": "file:///srv/git/fleet.git"})},
		{name: "interval of exactly 1s is accepted", spec: repo(map[string]any{"interval": "1s"})},
		{name: "full commit is accepted", spec: repo(map[string]any{"ref": map[string]any{"commit": validCommit}})},
		{name: "fetch timeout over 1h", spec: repo(map[string]any{"timeout": "90m"}), wantErr: []string{"spec.timeout", "timeout must be from 1s to 1h"}},
		{name: "fetch timeout of 0s", spec: repo(map[string]any{"timeout": "0s"}), wantErr: []string{"spec.timeout", "timeout must be from 1s to 1h"}},
		{
			name: "timeout defaults to 60s", spec: repo(nil),
			check: func(t *testing.T, stored *unstructured.Unstructured) {
				got, found, err := unstructured.NestedString(stored.Object, "spec", "timeout")
				if err != nil || !found || got != "60s" {
					t.Errorf("stored spec.timeout = %q (found=%v, err=%v), want the default \"60s\"", got, found, err)
				}
			},
		},
		{
			name: "user and password in https url", spec: repo(map[string]any{"url": "https://user:pass@git.example.com/fleet.git"}),
			wantErr: []string{"spec.url", "must not carry credentials"},
		},
		{
			name: "token as user in http url", spec: repo(map[string]any{"url": "http://token@git.example.com/fleet.git"}),
			wantErr: []string{"spec.url", "must not carry credentials"},
		},
		{
			name: "ftp scheme", spec: repo(map[string]any{"url": "ftp://git.example.com/fleet.git"}),
			wantErr: []string{"spec.url", "should match"},
		},
		{
			name: "missing interval", spec: map[string]any{"url": "https://git.example.com/fleet.git"},
			wantErr: []string{"spec.interval", "Required value"},
		},
		{
			name: "interval below 1s", spec: repo(map[string]any{"interval": "500ms"}),
			wantErr: []string{"spec.interval", "interval must be at least 1s"},
		},
		{
			name: "malformed interval", spec: repo(map[string]any{"interval": "5 minutes"}),
			wantErr: []string{"spec.interval", "should match"},
			notErr:  []string{"type conversion error"},
		},
		{
			name: "short commit", spec: repo(map[string]any{"ref": map[string]any{"commit": "0123abc"}}),
			wantErr: []string{"spec.ref.commit", "should match"},
		},
		{
			name: "uppercase commit", spec: repo(map[string]any{"ref": map[string]any{"commit": strings.ToUpper(validCommit)}}),
			wantErr: []string{"spec.ref.commit", "should match"},
		},
		{
			name: "file url with secretRef", spec: repo(map[string]any{"url": "file:///srv/git/fleet.git", "secretRef": secretRef}),
			wantErr: []string{"secretRef cannot be used with a file:// url"},
		},
	}
}

func stackCases() []admissionCase {
	stack := func(spec map[string]any) map[string]any {
		base := map[string]any{
			"sourceRef": map[string]any{"kind": v1alpha1.GitRepositoryKind, "name": "fleet"},
			"path":      "clusters/prod",
			"interval":  "5m",
			"prune":     true,
		}
		for k, v := range spec {
			base[k] = v
		}
		return base
	}
	healthChecks := []any{map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}
	const pathMsg = "path must be relative to the artifact root and must not contain '..'"
	return []admissionCase{
		{name: "valid stack is accepted", spec: stack(nil)},
		{name: "dot-slash path is accepted", spec: stack(map[string]any{"path": "./clusters/prod"})},
		{name: "dots inside a segment are accepted", spec: stack(map[string]any{"path": "apps/v1..v2"})},
		{name: "wait alone is accepted", spec: stack(map[string]any{"wait": true})},
		{name: "healthChecks alone are accepted", spec: stack(map[string]any{"healthChecks": healthChecks})},
		{name: "path starting with ..", spec: stack(map[string]any{"path": "../x"}), wantErr: []string{"spec.path", pathMsg}},
		{name: "path with .. inside", spec: stack(map[string]any{"path": "clusters/../../x"}), wantErr: []string{"spec.path", pathMsg}},
		{name: "absolute path", spec: stack(map[string]any{"path": "/abs"}), wantErr: []string{"spec.path", pathMsg}},
		{name: "stack interval below 1s", spec: stack(map[string]any{"interval": "1ms"}), wantErr: []string{"spec.interval", "interval must be at least 1s"}},
		{name: "retryInterval of 1ms is a hot loop", spec: stack(map[string]any{"retryInterval": "1ms"}), wantErr: []string{"spec.retryInterval", "retryInterval must be from 1s to 24h"}},
		{name: "retryInterval of 0s never retries", spec: stack(map[string]any{"retryInterval": "0s"}), wantErr: []string{"spec.retryInterval", "retryInterval must be from 1s to 24h"}},
		{name: "retryInterval over 24h", spec: stack(map[string]any{"retryInterval": "25h"}), wantErr: []string{"spec.retryInterval", "retryInterval must be from 1s to 24h"}},
		{name: "retryInterval of 24h is accepted", spec: stack(map[string]any{"retryInterval": "24h"})},
		{name: "timeout over 1h", spec: stack(map[string]any{"timeout": "2h"}), wantErr: []string{"spec.timeout", "timeout must be from 1s to 1h"}},
		{name: "timeout of 0s", spec: stack(map[string]any{"timeout": "0s"}), wantErr: []string{"spec.timeout", "timeout must be from 1s to 1h"}},
		{name: "timeout of 1h is accepted", spec: stack(map[string]any{"timeout": "1h"})},
		{
			name: "wait with healthChecks", spec: stack(map[string]any{"wait": true, "healthChecks": healthChecks}),
			wantErr: []string{"set either wait or healthChecks, not both"},
		},
		{
			name: "unsupported source kind", spec: stack(map[string]any{"sourceRef": map[string]any{"kind": "Bucket", "name": "fleet"}}),
			wantErr: []string{"spec.sourceRef.kind", `Unsupported value: "Bucket"`},
		},
	}
}

func TestAdmission(t *testing.T) {
	controlplane.Require(t, env)
	ns := newNamespace(t, "validation-")
	for _, group := range []struct {
		kind  string
		cases []admissionCase
	}{
		{v1alpha1.GitRepositoryKind, gitRepositoryCases()},
		{v1alpha1.StackKind, stackCases()},
	} {
		for i, tc := range group.cases {
			t.Run(group.kind+"/"+tc.name, func(t *testing.T) {
				obj := newObject(group.kind, ns, fmt.Sprintf("%s-%02d", strings.ToLower(group.kind), i), tc.spec)
				runAdmissionCase(t, obj, tc)
			})
		}
	}
}

// runAdmissionCase creates obj and checks the API server's verdict.
func runAdmissionCase(t *testing.T, obj *unstructured.Unstructured, tc admissionCase) {
	t.Helper()
	ctx := context.Background()
	err := env.Client.Create(ctx, obj)
	if len(tc.wantErr) == 0 {
		if err != nil {
			t.Fatalf("valid %s %s was refused: %v\nspec: %v", obj.GetKind(), obj.GetName(), err, tc.spec)
		}
		if tc.check != nil {
			stored := newObject(obj.GetKind(), obj.GetNamespace(), obj.GetName(), nil)
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), stored); err != nil {
				t.Fatalf("reading back %s %s: %v", obj.GetKind(), obj.GetName(), err)
			}
			tc.check(t, stored)
		}
		return
	}
	if err == nil {
		t.Fatalf("invalid %s %s was accepted, want a refusal mentioning %q\nspec: %v", obj.GetKind(), obj.GetName(), tc.wantErr, tc.spec)
	}
	if !apierrors.IsInvalid(err) {
		t.Fatalf("creating %s %s: got %v (reason %q), want an Invalid refusal from admission",
			obj.GetKind(), obj.GetName(), err, apierrors.ReasonForError(err))
	}
	t.Logf("refused as expected: %v", err)
	for _, unwanted := range tc.notErr {
		if strings.Contains(err.Error(), unwanted) {
			t.Errorf("refusal of %s %s carries noise %q: %v", obj.GetKind(), obj.GetName(), unwanted, err)
		}
	}
	for _, want := range tc.wantErr {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal of %s %s does not explain the problem: message %q does not contain %q",
				obj.GetKind(), obj.GetName(), err.Error(), want)
		}
	}
}

func TestPrinterColumns(t *testing.T) {
	controlplane.Require(t, env)
	scheme := runtime.NewScheme()
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatalf("creating an apiextensions client: %v", err)
	}
	readyStatus := `.status.conditions[?(@.type=="Ready")].status`
	readyMessage := `.status.conditions[?(@.type=="Ready")].message`
	for crd, want := range map[string]map[string]string{
		"gitrepositories.flotilla.io": {"Ready": readyStatus, "Status": readyMessage, "Revision": ".status.artifact.revision", "Age": ".metadata.creationTimestamp"},
		"stacks.flotilla.io":          {"Ready": readyStatus, "Status": readyMessage, "Revision": ".status.lastAppliedRevision", "Age": ".metadata.creationTimestamp"},
	} {
		t.Run(crd, func(t *testing.T) {
			var obj apiextensionsv1.CustomResourceDefinition
			if err := c.Get(context.Background(), client.ObjectKey{Name: crd}, &obj); err != nil {
				t.Fatalf("reading CRD %s from the API server: %v", crd, err)
			}
			got := printerColumns(t, &obj, v1alpha1.GroupVersion.Version)
			for name, path := range want {
				if p, ok := got[name]; !ok {
					t.Errorf("CRD %s has no printer column %q; columns: %v", crd, name, got)
				} else if p != path {
					t.Errorf("CRD %s printer column %q shows %s, want %s", crd, name, p, path)
				}
			}
		})
	}
}

// printerColumns maps the printer column names of version to their JSONPath.
func printerColumns(t *testing.T, crd *apiextensionsv1.CustomResourceDefinition, version string) map[string]string {
	t.Helper()
	for _, v := range crd.Spec.Versions {
		if v.Name != version {
			continue
		}
		cols := map[string]string{}
		for _, c := range v.AdditionalPrinterColumns {
			cols[c.Name] = c.JSONPath
		}
		return cols
	}
	t.Fatalf("CRD %s serves no version %s", crd.Name, version)
	return nil
}

// newNamespace creates a namespace with a generated name, deleted at cleanup.
func newNamespace(t *testing.T, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}
	if err := env.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating a test namespace: %v", err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), ns) })
	return ns.Name
}

// newObject returns a Flotilla object of kind with the given spec.
func newObject(kind, namespace, name string, spec map[string]any) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{Object: map[string]any{}}
	obj.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(kind))
	obj.SetNamespace(namespace)
	obj.SetName(name)
	if spec != nil {
		obj.Object["spec"] = spec
	}
	return obj
}
