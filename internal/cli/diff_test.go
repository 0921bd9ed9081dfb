package cli

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/redact"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// diffFiles are the manifests of the diff tests' repository: a ConfigMap
// with a value substituted from a Secret, and a Secret.
func diffFiles() map[string]string {
	return map[string]string{
		"settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n  token: ${TOKEN:=none}\n",
		"credentials.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: credentials\nstringData:\n  password: " +
			markerInManifest + "\n  user: admin\n",
	}
}

// writeRepo writes files into a new directory with a kustomization.yaml
// listing them, and returns the directory.
func writeRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	all := maps.Clone(files)
	var k strings.Builder
	k.WriteString("resources:\n")
	for _, name := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(&k, "  - %s\n", name)
	}
	all["kustomization.yaml"] = k.String()
	writeFiles(t, dir, all)
	return dir
}

// diffFixture is a Stack "apps" in a namespace of its own, applying to
// another namespace of its own, with the Secret of its variables.
type diffFixture struct {
	ns, target string
}

func newDiffFixture(t *testing.T, name string) *diffFixture {
	t.Helper()
	f := &diffFixture{ns: "cli-diff-" + name, target: "cli-diff-" + name + "-app"}
	createNamespaces(t, f.ns, f.target)
	createVariables(t, f.ns)
	if err := env.Client.Create(t.Context(), newStack(f.ns, "apps", ".", f.target)); err != nil {
		t.Fatalf("creating the Stack: %v", err)
	}
	return f
}

// applyAsAgent renders the repository for the Stack, applies it with the
// agent's engine and options, and records the inventory in the status.
func (f *diffFixture) applyAsAgent(t *testing.T, repo string) {
	t.Helper()
	ctx := t.Context()
	var st v1alpha1.Stack
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "apps"}, &st); err != nil {
		t.Fatal(err)
	}
	objs, _, err := renderStack(ctx, env.Client, &st, repo, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apply.NewManager(env.Client, stackspec.ApplyOptions(apply.DefaultOptions(), &st)).Apply(ctx, objs); err != nil {
		t.Fatalf("applying as the agent: %v", err)
	}
	inv := make([]apply.ObjMetadata, 0, len(objs))
	for _, o := range objs {
		inv = append(inv, apply.MetadataOf(o))
	}
	st.Status.Inventory = stackspec.ToInventory(inv)
	if err := env.Client.Status().Update(ctx, &st); err != nil {
		t.Fatalf("recording the inventory: %v", err)
	}
}

// diff runs `flotilla diff stack apps` for the repository and returns its
// output, exit code and error.
func (f *diffFixture) diff(t *testing.T, repo string) (string, int, error) {
	t.Helper()
	o := DiffOptions{Kube: KubeFlags{Kubeconfig: env.Kubeconfig, Namespace: f.ns}, Stack: "apps", Path: repo}
	var out bytes.Buffer
	err := o.Run(t.Context(), streams(&out))
	code, _ := ExitCode(err)
	return out.String(), code, err
}

// wantLines fails unless out holds every line of want.
func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	for _, w := range want {
		if !slices.Contains(lines, w) {
			t.Errorf("the output lacks the line %q:\n%s", w, out)
		}
	}
}

func TestDiffEqual(t *testing.T) {
	f := newDiffFixture(t, "equal")
	repo := writeRepo(t, diffFiles())
	f.applyAsAgent(t, repo)

	out, code, err := f.diff(t, repo)
	if code != ExitOK || err != nil {
		t.Fatalf("exit %d (%v), want 0", code, err)
	}
	if out != "0 to create, 0 to change, 0 to prune\n" {
		t.Errorf("output = %q, want the summary alone", out)
	}
}

func TestDiffChangedField(t *testing.T) {
	f := newDiffFixture(t, "changed")
	files := diffFiles()
	f.applyAsAgent(t, writeRepo(t, files))
	files["settings.yaml"] = strings.Replace(files["settings.yaml"], "color: blue", "color: green", 1)

	out, code, err := f.diff(t, writeRepo(t, files))
	if code != ExitDiffChanges {
		t.Fatalf("exit %d (%v), want %d", code, err, ExitDiffChanges)
	}
	golden(t, "diff-changed.golden", out)
	assertNoMarker(t, out, markerInManifest, markerSubstituted)
}

func TestDiffNewObject(t *testing.T) {
	f := newDiffFixture(t, "new")
	files := diffFiles()
	f.applyAsAgent(t, writeRepo(t, files))
	files["extra.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  size: small\n"

	out, code, err := f.diff(t, writeRepo(t, files))
	if code != ExitDiffChanges {
		t.Fatalf("exit %d (%v), want %d", code, err, ExitDiffChanges)
	}
	wantLines(t, out,
		"--- live ConfigMap/"+f.target+"/extra (absent: would be created)",
		"+++ merged ConfigMap/"+f.target+"/extra",
		"+apiVersion: v1", "+  size: small", "+  name: extra",
		"+    "+apply.OwnerNameLabel+": apps",
		"1 to create, 0 to change, 0 to prune")
}

func TestDiffPruneCandidate(t *testing.T) {
	f := newDiffFixture(t, "prune")
	files := diffFiles()
	f.applyAsAgent(t, writeRepo(t, files))
	delete(files, "settings.yaml")

	out, code, err := f.diff(t, writeRepo(t, files))
	if code != ExitDiffChanges {
		t.Fatalf("exit %d (%v), want %d", code, err, ExitDiffChanges)
	}
	want := "would be pruned: ConfigMap/" + f.target + "/settings\n0 to create, 0 to change, 1 to prune\n"
	if out != want {
		t.Errorf("output = %q, want %q", out, want)
	}
}

func TestDiffPruneHeldBackByTheCapAsTheAgentWould(t *testing.T) {
	f := newDiffFixture(t, "prune-cap")
	files := map[string]string{}
	for i := range 12 {
		files[fmt.Sprintf("cm-%02d.yaml", i)] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%02d\n", i)
	}
	f.applyAsAgent(t, writeRepo(t, files))
	for i := range 7 { // 7 of 12 is over the default 50%
		delete(files, fmt.Sprintf("cm-%02d.yaml", i))
	}

	out, code, err := f.diff(t, writeRepo(t, files))
	if code != 0 || err != nil {
		t.Fatalf("exit %d (%v), want 0: a held-back prune changes nothing", code, err)
	}
	wantLines(t, out,
		"would not be pruned: ConfigMap/"+f.target+"/cm-00 (held back by maxPrunePercent 50%)",
		"prune held back, as the agent would: refusing to prune 7 of the 12 objects of the inventory in one pass (more than maxPrunePercent 50%): the rest of the revision is applied; if this is intended, raise spec.maxPrunePercent (100 turns the cap off)",
		"0 to create, 0 to change, 0 to prune")
}

func TestDiffSecretChangedShowsTheKeyNotTheValue(t *testing.T) {
	f := newDiffFixture(t, "secret")
	files := diffFiles()
	f.applyAsAgent(t, writeRepo(t, files))
	const rotated = "planted-marker-rotated"
	files["credentials.yaml"] = strings.Replace(files["credentials.yaml"], markerInManifest, rotated, 1)
	files["settings.yaml"] = strings.Replace(files["settings.yaml"], "color: blue", "color: green", 1)

	out, code, err := f.diff(t, writeRepo(t, files))
	if code != ExitDiffChanges {
		t.Fatalf("exit %d (%v), want %d", code, err, ExitDiffChanges)
	}
	wantLines(t, out,
		"--- live Secret/"+f.target+"/credentials",
		"-  password: '<masked: changed, before>'",
		"+  password: '<masked: changed, after>'",
		"   user: <masked>",
		"   token: '*****'",
		"0 to create, 2 to change, 0 to prune")
	assertNoMarker(t, out, markerInManifest, rotated, markerSubstituted)
}

func TestDiffFailures(t *testing.T) {
	cases := []struct {
		name string
		// file is added to the repository, or replaces one of its files.
		file, content string
		want          []string
	}{
		{
			name: "a broken manifest", file: "settings.yaml",
			content: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n data: {}\n",
			want:    []string{"settings.yaml:", "building Stack cli-diff-failures-"},
		},
		{
			name: "an object the dry-run refuses", file: "service.yaml",
			content: "apiVersion: v1\nkind: Service\nmetadata:\n  name: bad-port\nspec:\n  ports:\n    - port: 70000\n",
			want:    []string{"server-side dry-run refused 1 object(s)", "Service/cli-diff-failures-", "/bad-port: ", "65535"},
		},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newDiffFixture(t, fmt.Sprintf("failures-%d", i))
			files := diffFiles()
			f.applyAsAgent(t, writeRepo(t, files))
			files[tc.file] = tc.content

			out, code, err := f.diff(t, writeRepo(t, files))
			if code != ExitDiffFailed || err == nil {
				t.Fatalf("exit %d (%v), want %d", code, err, ExitDiffFailed)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if out != "" {
				t.Errorf("a failed diff printed %q", out)
			}
		})
	}
}

func TestDiffArgumentErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{{"diff", "stack"}, {"diff", "stack", "apps", "--no-such-flag"}, {"diff"}, {"diff", "stak", "apps"}, {"diff", "--path", "."}} {
		_, _, err := run(t, args...)
		if code, _ := ExitCode(err); code != ExitDiffFailed {
			t.Errorf("%v: exit %d (%v), want %d", args, code, err, ExitDiffFailed)
		}
	}
}

func TestDiffShowsCredentialsWrittenInAURL(t *testing.T) {
	f := newDiffFixture(t, "url")
	files := diffFiles()
	files["settings.yaml"] = strings.Replace(files["settings.yaml"], "color: blue", "url: https://bob:OTHERPASS@example.com/x", 1)
	f.applyAsAgent(t, writeRepo(t, files))
	files["settings.yaml"] = strings.Replace(files["settings.yaml"], "bob:OTHERPASS", "user:${TOKEN}", 1)

	out, code, err := f.diff(t, writeRepo(t, files))
	if code != ExitDiffChanges {
		t.Fatalf("exit %d (%v), want %d", code, err, ExitDiffChanges)
	}
	wantLines(t, out,
		"--- live ConfigMap/"+f.target+"/settings",
		"-  url: https://bob:OTHERPASS@example.com/x",
		"+  url: https://user:*****@example.com/x",
		"0 to create, 1 to change, 0 to prune")
	assertNoMarker(t, out, markerInManifest, markerSubstituted)
}

// configMap is a ConfigMap ns/name with data.
func configMap(ns, name string, data map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "data": data}}
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

func TestDiffShowsAChangeOnlyInMaskedValues(t *testing.T) {
	const before, after = "planted-marker-before", "planted-marker-after"
	live := configMap("shop", "settings", map[string]any{"token": before})
	merged := configMap("shop", "settings", map[string]any{"token": after})
	d := &stackDiff{
		objects: []apply.ObjectDiff{{Object: apply.MetadataOf(live), Action: apply.Configured, Live: live, Merged: merged}},
		red:     redact.New(before, after),
	}
	var out bytes.Buffer
	if err := d.print(&out, palette{}); err != nil {
		t.Fatal(err)
	}
	want := "--- live ConfigMap/shop/settings\n+++ merged ConfigMap/shop/settings\n" + noteMaskedChange + "\n" +
		"0 to create, 1 to change, 0 to prune\n"
	if out.String() != want {
		t.Errorf("output = %q, want %q", out.String(), want)
	}
	assertNoMarker(t, out.String(), before, after)
}

func TestDiffOfASuspendedStackWarnsAndStillDiffs(t *testing.T) {
	f := newDiffFixture(t, "suspended")
	files := diffFiles()
	f.applyAsAgent(t, writeRepo(t, files))
	var st v1alpha1.Stack
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: f.ns, Name: "apps"}, &st); err != nil {
		t.Fatal(err)
	}
	st.Spec.Suspend = true
	if err := env.Client.Update(t.Context(), &st); err != nil {
		t.Fatal(err)
	}
	files["settings.yaml"] = strings.Replace(files["settings.yaml"], "color: blue", "color: green", 1)

	o := DiffOptions{Kube: KubeFlags{Kubeconfig: env.Kubeconfig, Namespace: f.ns}, Stack: "apps", Path: writeRepo(t, files)}
	var out, errOut bytes.Buffer
	err := o.Run(t.Context(), Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	if code, _ := ExitCode(err); code != ExitDiffChanges {
		t.Fatalf("exit %d (%v), want %d", code, err, ExitDiffChanges)
	}
	wantLines(t, out.String(), "+  color: green", "0 to create, 1 to change, 0 to prune")
	wantLines(t, errOut.String(), "warning: Stack "+f.ns+"/apps is suspended: the agent applies none of this until it is resumed (flotilla resume stack apps -n "+f.ns+")")
}

func TestStackSubcommandsTakeThePlural(t *testing.T) {
	for _, args := range [][]string{
		{"build", "stacks", "a", "b", "--path", "."},
		{"diff", "stacks", "a", "b", "--path", "."},
		{"tree", "stacks", "a", "b"},
		{"tree", "st", "a", "b"},
	} {
		_, _, err := run(t, args...)
		if err == nil || !strings.Contains(err.Error(), "accepts 1 arg(s), received 2") {
			t.Errorf("%v: err = %v, want the stack subcommand's argument check", args, err)
		}
	}
}
