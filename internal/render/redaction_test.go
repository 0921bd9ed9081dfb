package render

import (
	"strings"
	"testing"
)

// Kustomize runs before substitution, on the artifact and the Stack's
// options alone: no substitution value can be in its messages, so they are
// not masked there, and a short value such as "prod" no longer blanks the
// words that contain it. The values of Secrets in the artifact still are.
func TestKustomizeMessagesMaskArtifactSecretsNotSubstitutionValues(t *testing.T) {
	const secretValue = "s3cr3t-in-artifact"
	tree := map[string]string{
		"kustomization.yaml": "resources: [secret.yaml, cm.yaml]\n",
		"secret.yaml":        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  token: " + secretValue + "\n",
		"cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: production-settings\n",
	}
	patch := func(name string) Patch {
		return Patch{Patch: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n"}
	}
	runErrorCases(t, []errorCase{
		{
			name: "substitution-value-inside-a-word",
			opts: with(files(tree, ""), func(o *Options) {
				o.Substitute = map[string]string{"ENV": "prod"}
				o.Patches = []Patch{patch("production-missing")}
			}),
			is: ErrKustomize, path: ".",
			contains: []string{"production-missing"},
		},
		{
			name: "artifact-secret-value-still-masked",
			opts: with(files(tree, ""), func(o *Options) {
				o.Substitute = map[string]string{"ENV": "prod"}
				o.Patches = []Patch{patch(secretValue)}
			}),
			is: ErrKustomize, path: ".",
			contains: []string{"*****"},
			secrets:  []string{secretValue},
		},
	})
}

func TestRedactorsOfTheGuard(t *testing.T) {
	g := &guard{secrets: []string{"artifact-secret"}}
	o := Options{Substitute: map[string]string{"ENV": "prod"}}
	const msg = "prod produces artifact-secret"
	if got, want := g.redactor(o).String(msg), "***** *****uces *****"; got != want {
		t.Errorf("after substitution: %q, want %q", got, want)
	}
	if got, want := g.artifactRedactor().String(msg), "prod produces *****"; got != want {
		t.Errorf("before substitution: %q, want %q", got, want)
	}
	if strings.Contains(g.artifactRedactor().String("https://u:p@h/x"), "p@") {
		t.Error("URL credentials are not stripped before substitution")
	}
}
