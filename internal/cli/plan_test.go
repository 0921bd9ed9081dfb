package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/internal/fleet/fleettest"
)

// planFleet commits examples/fleet, then commits change on top of it when
// it is not nil, in a new repository; it returns its directory.
func planFleet(t *testing.T, change func(files map[string]string) map[string]string) string {
	t.Helper()
	files, err := fleettest.CopyDir(filepath.Join("..", "..", "examples", "fleet"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := fleettest.InitRepo(dir, files); err != nil {
		t.Fatal(err)
	}
	if change != nil {
		if err := fleettest.Commit(dir, change(files), "the change"); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runPlan runs the verb and returns stdout and the exit code.
func runPlan(t *testing.T, o PlanOptions) (string, int, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := o.Run(t.Context(), Streams{Out: &out, ErrOut: &errOut})
	code, _ := ExitCode(err)
	return out.String(), code, err
}

func replaced(t *testing.T, files map[string]string, path, old, new string) string {
	t.Helper()
	if !strings.Contains(files[path], old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	return strings.Replace(files[path], old, new, 1)
}

func TestPlanExitCodes(t *testing.T) {
	const overlay = "apps/overlays/staging/kustomization.yaml"
	cases := []struct {
		name   string
		change func(files map[string]string) map[string]string
		code   int
		errMsg string
	}{
		{name: "no-change-exits-0"},
		{name: "a-change-exits-2", code: ExitPlanChanges, change: func(f map[string]string) map[string]string {
			return map[string]string{overlay: replaced(t, f, overlay, "replicas: 1", "replicas: 2")}
		}},
		{name: "a-cluster-that-fails-to-render-exits-1", code: ExitError, errMsg: "1 of 3 clusters would fail to render at head", change: func(f map[string]string) map[string]string {
			return map[string]string{overlay: replaced(t, f, overlay, "../../base/hello", "../../base/missing")}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := planFleet(t, tc.change)
			_, code, err := runPlan(t, PlanOptions{Repo: dir, Base: "main~0", Head: "HEAD", Output: planOutputText, Source: "flotilla-system/fleet"})
			if tc.change != nil {
				_, code, err = runPlan(t, PlanOptions{Repo: dir, Base: "HEAD~1", Head: "HEAD", Output: planOutputText, Source: "flotilla-system/fleet"})
			}
			if code != tc.code {
				t.Errorf("exit code %d (%v), want %d", code, err, tc.code)
			}
			if tc.errMsg != "" && (err == nil || !strings.Contains(err.Error(), tc.errMsg)) {
				t.Errorf("error %v does not say %q", err, tc.errMsg)
			}
		})
	}
}

func TestPlanOutputFormats(t *testing.T) {
	const cm = "apps/base/hello/configmap.yaml"
	const overlay = "apps/overlays/prod-us-east/kustomization.yaml"
	dir := planFleet(t, func(f map[string]string) map[string]string {
		return map[string]string{
			cm:                                      replaced(t, f, cm, "LEVEL: info", "LEVEL: warn"),
			overlay:                                 replaced(t, f, overlay, "../../base/hello", "../../base/hello\n  - extra.yaml"),
			"apps/overlays/prod-us-east/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: hello\ndata:\n  a: b\n",
		}
	})
	for _, format := range []string{planOutputText, planOutputMarkdown, OutputJSON} {
		t.Run(format, func(t *testing.T) {
			out, code, err := runPlan(t, PlanOptions{Repo: dir, Base: "HEAD~1", Head: "HEAD", Output: format, Source: "flotilla-system/fleet", WarnClusters: 2})
			if code != ExitPlanChanges {
				t.Fatalf("exit code %d (%v), want %d", code, err, ExitPlanChanges)
			}
			if format == OutputJSON && !json.Valid([]byte(out)) {
				t.Fatalf("-o json is not JSON:\n%s", out)
			}
			golden(t, "plan-"+format+".golden", out)
		})
	}
}

func TestPlanDefaultsToTheWorkingTreeAgainstTheMergeBase(t *testing.T) {
	dir := planFleet(t, nil)
	if err := fleettest.Git(dir, "checkout", "-q", "-b", "feature"); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "apps", "overlays", "staging", "kustomization.yaml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, bytes.Replace(b, []byte("replicas: 1"), []byte("replicas: 4"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(dir, "apps")) // --repo defaults to the clone's top level
	out, code, err := runPlan(t, PlanOptions{Output: planOutputText, Source: "flotilla-system/fleet", WarnClusters: 10})
	if code != ExitPlanChanges {
		t.Fatalf("exit code %d (%v), want 2", code, err)
	}
	for _, want := range []string{"(merge-base of HEAD and main) -> working tree", "spec.replicas: 1 -> 4", "Unchanged: prod-eu-west, prod-us-east"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestPlanNeverPrintsSecretValues(t *testing.T) {
	const marker = "s3cr3t-plan-marker-Vf6"
	const k = "apps/base/hello/kustomization.yaml"
	files, err := fleettest.CopyDir(filepath.Join("..", "..", "examples", "fleet"))
	if err != nil {
		t.Fatal(err)
	}
	files["apps/base/hello/secret.yaml"] = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: hello\nstringData:\n  token: old-" + marker + "\n"
	files[k] = replaced(t, files, k, "  - configmap.yaml\n", "  - configmap.yaml\n  - secret.yaml\n")
	dir := t.TempDir()
	if err := fleettest.InitRepo(dir, files); err != nil {
		t.Fatal(err)
	}
	change := map[string]string{"apps/base/hello/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: hello\ndata:\n  token: " +
		base64.StdEncoding.EncodeToString([]byte("new-"+marker)) + "\n  extra: " + base64.StdEncoding.EncodeToString([]byte(marker)) + "\n"}
	if err := fleettest.Commit(dir, change, "rotate"); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{planOutputText, planOutputMarkdown, OutputJSON} {
		out, code, err := runPlan(t, PlanOptions{Repo: dir, Base: "HEAD~1", Head: "HEAD", Output: format, Source: "flotilla-system/fleet"})
		if code != ExitPlanChanges {
			t.Fatalf("%s: exit code %d (%v)", format, code, err)
		}
		for _, form := range []string{marker, base64.StdEncoding.EncodeToString([]byte(marker)), base64.StdEncoding.EncodeToString([]byte("new-" + marker)),
			base64.StdEncoding.EncodeToString([]byte("old-" + marker)), base64.RawStdEncoding.EncodeToString([]byte(marker))} {
			if strings.Contains(out, form) {
				t.Errorf("-o %s prints the secret as %q", format, form)
			}
		}
		if !strings.Contains(out, "data.token") || !strings.Contains(out, "data.extra") {
			t.Errorf("-o %s does not name the changed keys:\n%s", format, out)
		}
	}
}

func TestPlanRefusesBadFlags(t *testing.T) {
	dir := planFleet(t, nil)
	cases := map[string]PlanOptions{
		"unknown output": {Repo: dir, Base: "HEAD", Output: "yaml", Source: "flotilla-system/fleet"},
		"bad source":     {Repo: dir, Base: "HEAD", Output: planOutputText, Source: "fleet"},
		"bad revision":   {Repo: dir, Base: "no-such-branch", Output: planOutputText, Source: "flotilla-system/fleet"},
		"not a clone":    {Repo: t.TempDir(), Output: planOutputText, Source: "flotilla-system/fleet"},
	}
	for name, o := range cases {
		t.Run(name, func(t *testing.T) {
			_, code, err := runPlan(t, o)
			var ec *ExitCodeError
			if code != ExitError || err == nil || errors.As(err, &ec) {
				t.Errorf("got exit code %d and %v, want a plain error", code, err)
			}
		})
	}
}
