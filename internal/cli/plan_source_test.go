package cli

import (
	"strings"
	"testing"
)

// --source is namespace/name: every other form is refused before the
// repository is read, and the error names the flag and the value given.
func TestPlanSourceMustBeNamespaceSlashName(t *testing.T) {
	for _, source := range []string{"fleet", "/fleet", "flotilla-system/", "", "/", "a/b/c", "flotilla-system//fleet"} {
		t.Run(source, func(t *testing.T) {
			o := PlanOptions{Repo: t.TempDir(), Output: planOutputText, Source: source}
			_, err := o.fleetOptions()
			if err == nil {
				t.Fatalf("--source %q was taken", source)
			}
			if want := `--source "` + source + `": give the GitRepository as namespace/name`; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q, want it to contain %q", err, want)
			}
		})
	}
}

// A well-formed --source is read as namespace and name.
func TestPlanSourceIsReadAsNamespaceAndName(t *testing.T) {
	dir := planFleet(t, nil)
	o := PlanOptions{Repo: dir, Base: "HEAD", Head: "HEAD", Output: planOutputText, Source: "fleet-system/platform"}
	fo, err := o.fleetOptions()
	if err != nil {
		t.Fatal(err)
	}
	if fo.Source.Namespace != "fleet-system" || fo.Source.Name != "platform" {
		t.Errorf("source %+v, want fleet-system/platform", fo.Source)
	}
}

// The output format is checked before --source and the repository.
func TestPlanOutputIsCheckedFirst(t *testing.T) {
	o := PlanOptions{Repo: t.TempDir(), Output: "yaml", Source: "bad"}
	_, err := o.fleetOptions()
	if err == nil || strings.Contains(err.Error(), "--source") {
		t.Errorf("error %v, want the output format refused first", err)
	}
}
