package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/ociimage/ocitest"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

func imageObjectMeta(ns, name string, age time.Duration) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1, CreationTimestamp: metav1.NewTime(getNow().Add(-age))}
}

// fixtureImages are an ImageRepository, two ImagePolicies and an
// ImageUpdate as the agent leaves them.
func fixtureImages() []client.Object {
	return []client.Object{
		&v1alpha1.ImageUpdate{
			ObjectMeta: imageObjectMeta("apps", "fleet", 48*time.Hour),
			Spec:       v1alpha1.ImageUpdateSpec{SourceRef: v1alpha1.SourceReference{Name: "fleet"}, Suspend: true},
			Status: v1alpha1.ImageUpdateStatus{LastPushCommit: "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
				Conditions: []metav1.Condition{readyCond(metav1.ConditionTrue, "Succeeded", "pushed 9f8e7d6c5b4a39281706f5e4d3c2b1a098765432 to main")}},
		},
		&v1alpha1.ImagePolicy{
			ObjectMeta: imageObjectMeta("apps", "podinfo", 24*time.Hour),
			Spec:       v1alpha1.ImagePolicySpec{ImageRepositoryRef: v1alpha1.LocalObjectReference{Name: "podinfo"}},
			Status: v1alpha1.ImagePolicyStatus{
				LatestRef: &v1alpha1.ImageRef{Name: "ghcr.io/example/podinfo", Tag: "6.5.4",
					Digest: "sha256:4a5b6c7d8e9f00112233445566778899aabbccddeeff00112233445566778899"},
				Conditions: []metav1.Condition{readyCond(metav1.ConditionTrue, "Succeeded", "latest image tag 6.5.4: 40 tags considered, 12 candidates")}},
		},
		&v1alpha1.ImagePolicy{
			ObjectMeta: imageObjectMeta("apps", "broken", time.Hour),
			Spec:       v1alpha1.ImagePolicySpec{ImageRepositoryRef: v1alpha1.LocalObjectReference{Name: "podinfo"}},
			Status: v1alpha1.ImagePolicyStatus{Conditions: []metav1.Condition{readyCond(metav1.ConditionFalse, "InvalidSpec",
				`spec.policy.semver.range: ">=1 <<2" does not parse: improper constraint`)}},
		},
		&v1alpha1.ImageRepository{
			ObjectMeta: imageObjectMeta("apps", "podinfo", 72*time.Hour),
			Spec:       v1alpha1.ImageRepositorySpec{Image: "ghcr.io/example/podinfo"},
			Status: v1alpha1.ImageRepositoryStatus{LastScanResult: &v1alpha1.ScanResult{TagCount: 40},
				Conditions: []metav1.Condition{readyCond(metav1.ConditionTrue, "Succeeded", "40 tags found")}},
		},
	}
}

func fixtureImageEntries() []ImageEntry {
	var entries []ImageEntry
	for _, o := range fixtureImages() {
		entries = append(entries, imageEntry(o))
	}
	return entries
}

func TestGetImagesTable(t *testing.T) {
	entries := fixtureImageEntries()
	for _, all := range []bool{false, true} {
		var out bytes.Buffer
		sorted := append([]ImageEntry(nil), entries...)
		sortImageEntries(sorted)
		if err := printImagesTable(&out, palette{}, sorted, all, getNow()); err != nil {
			t.Fatal(err)
		}
		golden(t, fmt.Sprintf("get-images-table-all-namespaces-%v.golden", all), out.String())
	}
}

func TestGetImagesStructured(t *testing.T) {
	entries := fixtureImageEntries()
	sortImageEntries(entries)
	for _, format := range []string{OutputJSON, OutputYAML} {
		var out bytes.Buffer
		if err := printData(&out, format, entries); err != nil {
			t.Fatal(err)
		}
		golden(t, "get-images."+format+".golden", out.String())
	}
}

func TestExplanationTable(t *testing.T) {
	pol := &v1alpha1.ImagePolicy{
		ObjectMeta: imageObjectMeta("apps", "podinfo", time.Hour),
		Status: v1alpha1.ImagePolicyStatus{
			LatestRef:           &v1alpha1.ImageRef{Name: "ghcr.io/example/podinfo", Tag: "6.5.4"},
			ObservedPreviousRef: &v1alpha1.ImageRef{Name: "ghcr.io/example/podinfo", Tag: "6.5.3"},
			Explanation: &v1alpha1.PolicyExplanation{
				Policy: "semver range ^6.0", ScanRevision: "sha256:0123", Considered: 40, CandidateCount: 12,
				TopCandidates: []string{"6.5.4", "6.5.3", "6.5.2"},
				Excluded: []v1alpha1.ExcludedTags{
					{Reason: "not a semantic version", Count: 20, Examples: []string{"latest", "main-1a2b", "main-3c4d"}},
					{Reason: "outside the range ^6.0", Count: 8, Examples: []string{"5.2.0", "5.1.9", "7.0.0-rc.1"}},
				},
				Why: "6.5.4 is first by semver range ^6.0 among 12 candidates; next was 6.5.3",
			},
		},
	}
	var out bytes.Buffer
	if err := printExplanation(&out, pol); err != nil {
		t.Fatal(err)
	}
	golden(t, "get-images-explain.golden", out.String())

	out.Reset()
	pol.Status.Explanation = nil
	pol.Status.Conditions = []metav1.Condition{readyCond(metav1.ConditionFalse, "ImageRepositoryNotReady", "no scan yet")}
	if err := printExplanation(&out, pol); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.Contains(got, "has no explanation: ImageRepositoryNotReady: no scan yet") {
		t.Errorf("without an explanation: %q", got)
	}
}

func TestImageArguments(t *testing.T) {
	cases := []struct {
		in   []string
		want []string
	}{
		{[]string{"image", "repository", "app"}, []string{"imagerepository", "app"}},
		{[]string{"image", "policies", "app"}, []string{"imagepolicy", "app"}},
		{[]string{"images", "update", "fleet"}, []string{"imageupdate", "fleet"}},
		{[]string{"image", "bogus", "x"}, []string{"image", "bogus", "x"}},
		{[]string{"stack", "apps"}, []string{"stack", "apps"}},
	}
	for _, tc := range cases {
		if diff := cmp.Diff(tc.want, imageArgs(tc.in)); diff != "" {
			t.Errorf("imageArgs(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
	for _, word := range []string{"imagepolicy", "imgpol", "ImagePolicy", "image-policy"} {
		if k, err := kindFor(word); err != nil || k.Kind != v1alpha1.ImagePolicyKind {
			t.Errorf("kindFor(%q) = %v, %v", word, k.Kind, err)
		}
	}
}

func TestGetImagesRefusesBadArguments(t *testing.T) {
	cases := map[string]GetImagesOptions{
		"--explain explains one ImagePolicy": {Explain: true, Kind: "repository", Name: "x"},
		"unknown image kind":                 {Kind: "widgets"},
		"NAME and --all-namespaces":          {Kind: "policy", Name: "x", Kube: KubeFlags{AllNamespaces: true}},
	}
	for want, o := range cases {
		if err := o.Run(context.Background(), Streams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v, want %q", err, want)
		}
	}
}

// TestGetImagesAndReconcileAgainstTheAgent drives the verbs against the
// real API server and the agent's controllers, with a real registry.
// newImagesAgent is a namespace watched by its own agent, with a real
// registry holding app:1.0.0, 1.1.0 and latest, the ImageRepository app
// and the ImagePolicy app (semver ^1).
func newImagesAgent(t *testing.T) (string, ocitest.Registry) {
	t.Helper()
	controlplane.Require(t, env)
	ns := uniqueName("images")
	createNamespace(t, env.Client, ns)
	reg := ocitest.NewRegistry(t, "u", "registry-pw-cli")
	ocitest.PushTags(t, reg, "u", "registry-pw-cli", "app", "a", "1.0.0", "1.1.0", "latest")
	ca, err := reg.CAPEM()
	if err != nil {
		t.Fatal(err)
	}
	auth := base64.StdEncoding.EncodeToString([]byte("u:registry-pw-cli"))
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ca"}, Data: map[string][]byte{"ca.crt": ca}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: fmt.Appendf(nil, `{"auths":{%q:{"auth":%q}}}`, reg.Host, auth)}},
	} {
		if err := env.Client.Create(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	startAgent(t, ns)
	objs := []client.Object{
		&v1alpha1.ImageRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"}, Spec: v1alpha1.ImageRepositorySpec{
			Image: reg.Host + "/app", Interval: metav1.Duration{Duration: time.Hour},
			SecretRef: &v1alpha1.LocalObjectReference{Name: "creds"}, CertSecretRef: &v1alpha1.LocalObjectReference{Name: "ca"}}},
		&v1alpha1.ImagePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"}, Spec: v1alpha1.ImagePolicySpec{
			ImageRepositoryRef: v1alpha1.LocalObjectReference{Name: "app"},
			Policy:             v1alpha1.ImagePolicyChoice{SemVer: &v1alpha1.SemVerPolicy{Range: "^1"}}}},
	}
	for _, o := range objs {
		if err := env.Client.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
	return ns, reg
}

func TestGetImagesAndReconcileAgainstTheAgent(t *testing.T) {
	ns, reg := newImagesAgent(t)
	auth := base64.StdEncoding.EncodeToString([]byte("u:registry-pw-cli"))

	// The repository scans first: a policy without a scan reports ImageRepositoryNotReady.
	if out, errOut, err := run(t, "reconcile", "image", "repository", "app", "-n", ns, "--kubeconfig", env.Kubeconfig, "--timeout", testWait); err != nil {
		t.Fatalf("reconcile image repository: %v\n%s\n%s", err, out, errOut)
	}
	out, errOut, err := run(t, "reconcile", "image", "policy", "app", "-n", ns, "--kubeconfig", env.Kubeconfig, "--timeout", testWait)
	if err != nil || !strings.Contains(out, "✔ ImagePolicy "+ns+"/app: chose image "+reg.Host+"/app:1.1.0") {
		t.Fatalf("reconcile image policy: %v\n%s\n%s", err, out, errOut)
	}
	ocitest.PushTags(t, reg, "u", "registry-pw-cli", "app", "b", "1.2.0")
	out, errOut, err = run(t, "reconcile", "image", "repository", "app", "-n", ns, "--kubeconfig", env.Kubeconfig, "--timeout", testWait)
	if err != nil || !strings.Contains(out, "✔ ImageRepository "+ns+"/app: scanned") {
		t.Fatalf("reconcile image repository: %v\n%s\n%s", err, out, errOut)
	}

	var table string
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if table, errOut, err = run(t, "get", "images", "-n", ns, "--kubeconfig", env.Kubeconfig); err != nil {
			t.Fatalf("get images: %v\n%s", err, errOut)
		}
		if strings.Contains(table, reg.Host+"/app:1.2.0") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, want := range []string{"ImageRepository", "4 tags", "ImagePolicy", reg.Host + "/app:1.2.0"} {
		if !strings.Contains(table, want) {
			t.Errorf("get images lacks %q:\n%s", want, table)
		}
	}
	explained, _, err := run(t, "get", "images", "policy", "app", "--explain", "-n", ns, "--kubeconfig", env.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"chose " + reg.Host + "/app:1.2.0", "Policy:", "semver range ^1", "4 tags considered, 3 candidates", "1 ", "not a semantic version", "latest", "Previous:"} {
		if !strings.Contains(explained, want) {
			t.Errorf("--explain lacks %q:\n%s", want, explained)
		}
	}
	for _, text := range []string{table, explained, out} {
		if strings.Contains(text, "registry-pw-cli") || strings.Contains(text, auth) {
			t.Errorf("a credential is in the output:\n%s", text)
		}
	}
}

func TestSuspendRefusesAnImagePolicy(t *testing.T) {
	kind, err := kindFor("imagepolicy")
	if err != nil {
		t.Fatal(err)
	}
	pol := &v1alpha1.ImagePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "podinfo"}}
	if err := refuseUnsuspendable(kind, pol); err == nil || !strings.Contains(err.Error(), "ImagePolicy apps/podinfo has no spec.suspend") {
		t.Errorf("error = %v", err)
	}
	repo, _ := kindFor("imagerepository")
	if err := refuseUnsuspendable(repo, &v1alpha1.ImageRepository{}); err != nil {
		t.Errorf("an ImageRepository can be suspended: %v", err)
	}
}
