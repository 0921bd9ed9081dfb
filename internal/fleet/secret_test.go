package fleet

import (
	"encoding/base64"
	"strings"
	"testing"
)

// Planted values: none of them may appear in any output, in any form.
const (
	markerOld   = "planted-old-Zq9xK"
	markerNew   = "planted-new-Wp4vJ"
	markerGone  = "planted-gone-Hy7tR"
	markerAdded = "planted-added-Bn2mL"
	markerVar   = "planted-var-Qs5dF"
	markerVar2  = "planted-var2-Lk8pM"
)

func secretManifest(data string) string {
	return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: hello-credentials\n  namespace: hello\ntype: Opaque\n" + data
}

func clusterSecret(token string) string {
	return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cluster-secrets\n  namespace: flotilla-system\nstringData:\n  API_TOKEN: " + token + "\n"
}

func TestPlanSecretShowsKeysNeverValues(t *testing.T) {
	files := exampleFleet(t)
	const k = "apps/base/hello/kustomization.yaml"
	const cm = "apps/base/hello/configmap.yaml"
	const root = "clusters/staging/kustomization.yaml"
	const apps = "clusters/staging/apps.yaml"
	base := with(files, map[string]string{
		"apps/base/hello/secret.yaml":   secretManifest("stringData:\n  username: hello\n  password: " + markerOld + "\n  legacy: " + markerGone + "\n"),
		k:                               edit(t, files, k, "  - configmap.yaml\n", "  - configmap.yaml\n  - secret.yaml\n"),
		cm:                              edit(t, files, cm, "LEVEL: info", "LEVEL: info\n  TOKEN: ${API_TOKEN:=none}"),
		"clusters/staging/secrets.yaml": clusterSecret(markerVar),
		root:                            edit(t, files, root, "  - apps.yaml\n", "  - apps.yaml\n  - secrets.yaml\n"),
		apps:                            edit(t, files, apps, "    substitute:\n", "    substituteFrom:\n      - kind: Secret\n        name: cluster-secrets\n    substitute:\n"),
	})
	head := map[string]string{
		"apps/base/hello/secret.yaml": secretManifest("data:\n  username: " + base64.StdEncoding.EncodeToString([]byte("hello")) +
			"\n  password: " + base64.StdEncoding.EncodeToString([]byte(markerNew)) + "\n  api-key: " + base64.StdEncoding.EncodeToString([]byte(markerAdded)) + "\n"),
		"clusters/staging/secrets.yaml": clusterSecret(markerVar2),
	}
	res := planRepo(t, repoWith(t, base, head), "HEAD~1", "HEAD")
	outs := outputs(t, res)
	assertNoSecret(t, outs, markerOld, markerNew, markerGone, markerAdded, markerVar, markerVar2)
	for _, want := range []string{"data.password: changed (value hidden)", "data.api-key: added (value hidden)", "data.legacy: removed (value hidden)", "data.API_TOKEN: changed (value hidden)"} {
		if !strings.Contains(outs["text"], want) {
			t.Errorf("text output lacks %q", want)
		}
	}
	if strings.Contains(outs["text"], "data.username") {
		t.Errorf("an unchanged key is reported as changed:\n%s", outs["text"])
	}
	golden(t, "example-secret-change.txt", outs["text"])
}
