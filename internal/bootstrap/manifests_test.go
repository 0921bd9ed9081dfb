package bootstrap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/install"
)

// validOptions returns options that pass validate: an https repository,
// clusters/prod, the defaults for the rest.
func validOptions() Options {
	o := DefaultOptions()
	o.URL, o.Path = "https://git.example.com/fleet.git", "clusters/prod"
	return o
}

func TestDefaultOptionsValidateOnceAURLAndPathAreGiven(t *testing.T) {
	o := validOptions()
	if err := o.validate(); err != nil {
		t.Fatalf("the defaults with a URL and a path do not validate: %v", err)
	}
	if !o.Install.ClusterAdmin {
		t.Error("bootstrap's default agent is not bound to cluster-admin; the root Stack applies the agent's own CRDs and RBAC")
	}
	if !o.Wait || o.Timeout <= 0 {
		t.Errorf("Wait = %v, Timeout = %s: the default waits for the root Stack, with a bound", o.Wait, o.Timeout)
	}
	if o.Interval <= 0 || o.StackInterval <= 0 {
		t.Errorf("Interval = %s, StackInterval = %s, want both positive", o.Interval, o.StackInterval)
	}
}

func TestValidateMoreCases(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mutate   func(*Options)
		wantErr  string
		wantPath string
	}{
		{"http is accepted as https is", func(o *Options) { o.URL = "http://git.local/fleet.git" }, "", "clusters/prod"},
		{"a user without a password in the url is accepted", func(o *Options) { o.URL = "https://bot@git.example.com/fleet.git" }, "", "clusters/prod"},
		{"a path with spaces around it is trimmed", func(o *Options) { o.Path = "  clusters/prod  " }, "", "clusters/prod"},
		{"a path with dot segments is cleaned", func(o *Options) { o.Path = "clusters/./staging/../prod" }, "", "clusters/prod"},
		{"a nested path is kept", func(o *Options) { o.Path = "regions/eu/clusters/prod" }, "", "regions/eu/clusters/prod"},
		{"a url without a host", func(o *Options) { o.URL = "fleet.git" }, "is not a repository URL", ""},
		{"an empty url", func(o *Options) { o.URL = "" }, "is not a repository URL", ""},
		{"a file url", func(o *Options) { o.URL = "file:///srv/fleet.git" }, "is not a repository URL", ""},
		{"a git protocol url", func(o *Options) { o.URL = "git://host/fleet.git" }, `scheme "git" is not supported`, ""},
		{"ssh with a password", func(o *Options) {
			o.URL, o.PrivateKey, o.Password = "ssh://git@host/fleet.git", []byte("key"), "pw"
		}, "--password is for http(s) URLs", ""},
		{"an absolute path", func(o *Options) { o.Path = "/clusters/prod" }, "inside the repository", ""},
		{"an empty path", func(o *Options) { o.Path = "" }, "inside the repository", ""},
		{"a path of spaces", func(o *Options) { o.Path = "   " }, "inside the repository", ""},
		{"a path that climbs out after a detour", func(o *Options) { o.Path = "clusters/../../x" }, "inside the repository", ""},
		{"a path of two dots", func(o *Options) { o.Path = ".." }, "inside the repository", ""},
		{"an empty source name", func(o *Options) { o.SourceName = "" }, "names must not be empty", ""},
		{"an empty stack name", func(o *Options) { o.StackName = "" }, "names must not be empty", ""},
		{"an empty secret name", func(o *Options) { o.SecretName = "" }, "names must not be empty", ""},
		{"an invalid namespace for the agent", func(o *Options) { o.Install.Namespace = "Flotilla_System" }, "not a valid namespace name", ""},
		{"no replicas", func(o *Options) { o.Install.Replicas = 0 }, "replicas must be at least 1", ""},
		{"an empty image", func(o *Options) { o.Install.Image = "" }, "image is empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := validOptions()
			tc.mutate(&o)
			err := o.validate()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Path != tc.wantPath {
				t.Errorf("Path = %q after validate, want %q", o.Path, tc.wantPath)
			}
		})
	}
}

func TestValidateNeverShowsTheURLPassword(t *testing.T) {
	for _, raw := range []string{
		"https://bot:hunter2-secret@git.example.com/fleet.git",
		"ssh://git:hunter2-secret@host/fleet.git",
		"ftp://bot:hunter2-secret@host/fleet.git",
	} {
		t.Run(raw[:strings.Index(raw, ":")], func(t *testing.T) {
			o := validOptions()
			o.URL = raw
			err := o.validate()
			if err == nil {
				t.Fatal("a URL with a password was accepted")
			}
			if strings.Contains(err.Error(), "hunter2-secret") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestHasCredentials(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Options)
		want   bool
	}{
		{"none", func(*Options) {}, false},
		{"a username alone", func(o *Options) { o.Username = "bot" }, true},
		{"a token alone", func(o *Options) { o.Password = "tok" }, true},
		{"an ssh key", func(o *Options) { o.PrivateKey = []byte("key") }, true},
		{"known hosts alone are not credentials", func(o *Options) { o.KnownHosts = []byte("host ssh-ed25519 AAAA") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := validOptions()
			tc.mutate(&o)
			if got := o.hasCredentials(); got != tc.want {
				t.Errorf("hasCredentials() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRedactorMasksPasswordAndKey(t *testing.T) {
	o := validOptions()
	o.Password, o.PrivateKey = "pw-very-secret", []byte("-----BEGIN KEY-----abc")
	red := o.redactor()
	got := red.String("auth failed with pw-very-secret and -----BEGIN KEY-----abc")
	for _, secret := range []string{"pw-very-secret", "-----BEGIN KEY-----abc"} {
		if strings.Contains(got, secret) {
			t.Errorf("redacted message %q still shows %q", got, secret)
		}
	}
	if !strings.Contains(got, "auth failed with") {
		t.Errorf("redacted message %q lost its text", got)
	}
}

func TestRootStack(t *testing.T) {
	o := validOptions()
	o.StackName, o.SourceName, o.Install.Namespace = "prod", "fleet-repo", "ops"
	o.StackInterval = 3 * time.Minute
	got := o.rootStack()
	want := &v1alpha1.Stack{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.StackKind},
		ObjectMeta: metav1.ObjectMeta{Name: "prod", Namespace: "ops", Labels: map[string]string{install.PartOfLabel: install.PartOf}},
		Spec: v1alpha1.StackSpec{
			SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet-repo"},
			Path:      "./clusters/prod",
			Interval:  metav1.Duration{Duration: 3 * time.Minute},
			Prune:     true,
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("root Stack (-want +got):\n%s", diff)
	}
}

func TestGitRepository(t *testing.T) {
	for _, tc := range []struct {
		name          string
		mutate        func(*Options)
		wantSecretRef *v1alpha1.LocalObjectReference
	}{
		{"a public repository has no secretRef", func(*Options) {}, nil},
		{"a token refers to the Secret", func(o *Options) { o.Password = "tok" }, &v1alpha1.LocalObjectReference{Name: "fleet-git"}},
		{"an ssh key refers to the Secret", func(o *Options) {
			o.URL, o.PrivateKey = "ssh://git@host/fleet.git", []byte("key")
		}, &v1alpha1.LocalObjectReference{Name: "fleet-git"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := validOptions()
			o.Branch, o.Interval = "prod", 30*time.Second
			tc.mutate(&o)
			gr := o.gitRepository()
			if diff := cmp.Diff(tc.wantSecretRef, gr.Spec.SecretRef); diff != "" {
				t.Errorf("secretRef (-want +got):\n%s", diff)
			}
			if gr.Spec.URL != o.URL {
				t.Errorf("URL = %q, want %q", gr.Spec.URL, o.URL)
			}
			if gr.Spec.Ref == nil || gr.Spec.Ref.Branch != "prod" {
				t.Errorf("ref = %+v, want branch prod", gr.Spec.Ref)
			}
			if gr.Spec.Interval.Duration != 30*time.Second {
				t.Errorf("interval = %s, want 30s", gr.Spec.Interval.Duration)
			}
			if gr.Name != "fleet" || gr.Namespace != install.DefaultNamespace {
				t.Errorf("GitRepository is %s/%s, want %s/fleet", gr.Namespace, gr.Name, install.DefaultNamespace)
			}
		})
	}
}

func TestSyncObjectsHoldNoStatusNorCreationTimestamp(t *testing.T) {
	o := validOptions()
	objs, err := o.syncObjects()
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, u := range objs {
		kinds = append(kinds, u.GetKind())
		if _, ok := u.Object["status"]; ok {
			t.Errorf("%s carries a status: the API server owns it", u.GetKind())
		}
		if _, ok, _ := unstructured.NestedFieldNoCopy(u.Object, "metadata", "creationTimestamp"); ok {
			t.Errorf("%s carries a creationTimestamp", u.GetKind())
		}
		if u.GetLabels()[install.PartOfLabel] != install.PartOf {
			t.Errorf("%s lacks the part-of label: %v", u.GetKind(), u.GetLabels())
		}
	}
	if diff := cmp.Diff([]string{v1alpha1.GitRepositoryKind, v1alpha1.StackKind}, kinds); diff != "" {
		t.Errorf("sync object kinds, in order (-want +got):\n%s", diff)
	}
}

func TestSecret(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mutate   func(*Options)
		wantData map[string]string
	}{
		{"a username and a password", func(o *Options) { o.Username, o.Password = "bot", "pw" },
			map[string]string{"username": "bot", "password": "pw"}},
		{"a token alone has no username key", func(o *Options) { o.Password = "tok" },
			map[string]string{"password": "tok"}},
		{"an ssh key with known hosts", func(o *Options) { o.PrivateKey, o.KnownHosts = []byte("KEY"), []byte("HOSTS") },
			map[string]string{"identity": "KEY", "known_hosts": "HOSTS"}},
		{"an ssh key ignores a username", func(o *Options) { o.Username, o.PrivateKey, o.KnownHosts = "git", []byte("KEY"), []byte("HOSTS") },
			map[string]string{"identity": "KEY", "known_hosts": "HOSTS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := validOptions()
			o.SecretName, o.Install.Namespace = "creds", "ops"
			tc.mutate(&o)
			s, err := o.secret()
			if err != nil {
				t.Fatal(err)
			}
			if s.GetName() != "creds" || s.GetNamespace() != "ops" || s.GetKind() != "Secret" {
				t.Errorf("secret is %s %s/%s, want Secret ops/creds", s.GetKind(), s.GetNamespace(), s.GetName())
			}
			if typ, _, _ := unstructured.NestedString(s.Object, "type"); typ != "Opaque" {
				t.Errorf("type = %q, want Opaque", typ)
			}
			// The converter encodes []byte as base64, as the API does.
			var typed struct {
				Data map[string][]byte `json:"data"`
			}
			raw, _ := yaml.Marshal(s.Object)
			if err := yaml.Unmarshal(raw, &typed); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for k, v := range typed.Data {
				got[k] = string(v)
			}
			if diff := cmp.Diff(tc.wantData, got); diff != "" {
				t.Errorf("secret data (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteDirectory(t *testing.T) {
	o := validOptions()
	sync, err := o.syncObjects()
	if err != nil {
		t.Fatal(err)
	}
	components, err := install.Objects(o.Install)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "clusters", "prod")
	if err := writeDirectory(dir, components, sync); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{ComponentsFile, SyncFile, KustomizationFile}, names, sortStrings); diff != "" {
		t.Errorf("files written (-want +got):\n%s", diff)
	}

	k, err := os.ReadFile(filepath.Join(dir, KustomizationFile))
	if err != nil {
		t.Fatal(err)
	}
	var kust struct {
		Kind      string   `json:"kind"`
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(k, &kust); err != nil {
		t.Fatalf("kustomization.yaml does not parse: %v", err)
	}
	if kust.Kind != "Kustomization" || !cmp.Equal(kust.Resources, []string{ComponentsFile, SyncFile}) {
		t.Errorf("kustomization.yaml = %+v, want a Kustomization listing %s and %s", kust, ComponentsFile, SyncFile)
	}

	for file, want := range map[string]int{ComponentsFile: len(components), SyncFile: len(sync)} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), "# Written by flotilla bootstrap") {
			t.Errorf("%s does not start with the header comment:\n%.200s", file, data)
		}
		if got := strings.Count(string(data), "\n---\n"); got != want {
			t.Errorf("%s holds %d documents, want %d", file, got, want)
		}
		if strings.Contains(string(data), "kind: Secret") {
			t.Errorf("%s holds a Secret: the credentials never go to Git", file)
		}
	}
}

func TestWriteDirectoryFailsWhenThePathIsAFile(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "clusters")
	if err := os.WriteFile(file, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeDirectory(filepath.Join(file, "prod"), nil, nil); err == nil {
		t.Fatal("writing under a regular file succeeded")
	}
}

func TestSameJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b map[string]any
		want bool
	}{
		{"int64 and float64 of the same number", map[string]any{"replicas": int64(2)}, map[string]any{"replicas": float64(2)}, true},
		{"different numbers", map[string]any{"replicas": int64(2)}, map[string]any{"replicas": int64(3)}, false},
		{"key order does not matter", map[string]any{"a": "1", "b": "2"}, map[string]any{"b": "2", "a": "1"}, true},
		{"an extra field", map[string]any{"a": "1"}, map[string]any{"a": "1", "b": "2"}, false},
		{"both empty", map[string]any{}, map[string]any{}, true},
		{"nil and empty differ as JSON", nil, map[string]any{}, false},
		{"an unmarshalable value is never the same", map[string]any{"f": func() {}}, map[string]any{"f": func() {}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sameJSON(tc.a, tc.b); got != tc.want {
				t.Errorf("sameJSON = %v, want %v", got, tc.want)
			}
		})
	}
}

// sortStrings compares string slices as sets.
var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })
