package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/apply"
)

// imagesIn is fixtureImages with a copy of the ImageRepository in ns.
func imagesIn(ns string) []client.Object {
	objs := fixtureImages()
	return append(objs, &v1alpha1.ImageRepository{ObjectMeta: imageObjectMeta(ns, "api", time.Hour),
		Spec: v1alpha1.ImageRepositorySpec{Image: "ghcr.io/example/api"}})
}

func TestGetImagesRead(t *testing.T) {
	cases := []struct {
		name    string
		o       GetImagesOptions
		want    []string
		wantErr string
	}{
		{"every kind, in the order the data flows", GetImagesOptions{Kube: KubeFlags{Namespace: "apps"}},
			[]string{"ImageRepository/podinfo", "ImagePolicy/broken", "ImagePolicy/podinfo", "ImageUpdate/fleet"}, ""},
		{"one kind", GetImagesOptions{Kube: KubeFlags{Namespace: "apps"}, Kind: "imagepolicy"},
			[]string{"ImagePolicy/broken", "ImagePolicy/podinfo"}, ""},
		{"one name of one kind", GetImagesOptions{Kube: KubeFlags{Namespace: "apps"}, Kind: "imagerepository", Name: "podinfo"},
			[]string{"ImageRepository/podinfo"}, ""},
		{"every namespace, namespace first", GetImagesOptions{Kube: KubeFlags{AllNamespaces: true}, Kind: "imagerepository"},
			[]string{"ImageRepository/podinfo", "ImageRepository/api"}, ""},
		{"an empty namespace is an empty list", GetImagesOptions{Kube: KubeFlags{Namespace: "none"}}, []string{}, ""},
		{"a missing name suggests a close one", GetImagesOptions{Kube: KubeFlags{Namespace: "apps"}, Kind: "imagepolicy", Name: "podinf"},
			nil, "ImagePolicy apps/podinf not found; did you mean podinfo?"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			entries, err := tc.o.read(t.Context(), newFakeClient(t, imagesIn("shop")...))
			if errString(err) != tc.wantErr {
				t.Fatalf("read = %v, want %q", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			got := []string{}
			for _, e := range entries {
				got = append(got, e.Kind+"/"+e.Name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestImageEntry(t *testing.T) {
	want := []ImageEntry{
		{Kind: v1alpha1.ImageUpdateKind, Namespace: "apps", Name: "fleet", Ready: "True", Reason: "Succeeded",
			Message: "pushed 9f8e7d6c5b4a39281706f5e4d3c2b1a098765432 to main", Suspended: true,
			Source: "GitRepository/fleet", Latest: "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432", Created: getNow().Add(-48 * time.Hour)},
		{Kind: v1alpha1.ImagePolicyKind, Namespace: "apps", Name: "podinfo", Ready: "True", Reason: "Succeeded",
			Message: "latest image tag 6.5.4: 40 tags considered, 12 candidates", Source: "ImageRepository/podinfo",
			Latest:  "ghcr.io/example/podinfo:6.5.4@sha256:4a5b6c7d8e9f00112233445566778899aabbccddeeff00112233445566778899",
			Created: getNow().Add(-24 * time.Hour)},
		{Kind: v1alpha1.ImagePolicyKind, Namespace: "apps", Name: "broken", Ready: "False", Reason: "InvalidSpec",
			Message: `spec.policy.semver.range: ">=1 <<2" does not parse: improper constraint`, Source: "ImageRepository/podinfo",
			Created: getNow().Add(-time.Hour)},
		{Kind: v1alpha1.ImageRepositoryKind, Namespace: "apps", Name: "podinfo", Ready: "True", Reason: "Succeeded",
			Message: "40 tags found", Source: "ghcr.io/example/podinfo", Latest: "40 tags", Created: getNow().Add(-72 * time.Hour)},
	}
	if diff := cmp.Diff(want, fixtureImageEntries()); diff != "" {
		t.Errorf("imageEntry (-want +got):\n%s", diff)
	}
	unread := imageEntry(&v1alpha1.ImageRepository{ObjectMeta: imageObjectMeta("apps", "new", 0)})
	if unread.Ready != "Unknown" || unread.Latest != "" {
		t.Errorf("an ImageRepository before its first scan: %+v, want Ready Unknown and no LATEST", unread)
	}
}

func TestShortImageRef(t *testing.T) {
	cases := map[string]string{
		"ghcr.io/example/podinfo:6.5.4@sha256:4a5b6c7d8e9f0011": "ghcr.io/example/podinfo:6.5.4@sha256:4a5b6c7d",
		"9f8e7d6c5b4a39281706f5e4d3c2b1a098765432":              "9f8e7d6c",
		"9F8E7D6C5B4A39281706F5E4D3C2B1A098765432":              "9F8E7D6C5B4A39281706F5E4D3C2B1A098765432",
		"40 tags":                       "40 tags",
		"ghcr.io/example/podinfo:6.5.4": "ghcr.io/example/podinfo:6.5.4",
		"":                              "",
	}
	checkMapping(t, "shortImageRef", shortImageRef, cases)
}

// explainedPolicy is ImagePolicy apps/podinfo with an explanation.
func explainedPolicy() *v1alpha1.ImagePolicy {
	return &v1alpha1.ImagePolicy{
		ObjectMeta: imageObjectMeta("apps", "podinfo", time.Hour),
		Status: v1alpha1.ImagePolicyStatus{
			LatestRef: &v1alpha1.ImageRef{Name: "ghcr.io/example/podinfo", Tag: "6.5.4"},
			Explanation: &v1alpha1.PolicyExplanation{Policy: "semver range >=6.0.0", ScanRevision: "sha256:ab", Considered: 40,
				CandidateCount: 12, Why: "highest version in range", TopCandidates: []string{"6.5.4", "6.5.3"}},
		},
	}
}

func TestGetImagesExplainReadsThePolicy(t *testing.T) {
	c := newFakeClient(t, explainedPolicy())
	var out bytes.Buffer
	o := &GetImagesOptions{Kube: KubeFlags{Namespace: "apps"}, Name: "podinfo", Output: OutputTable}
	if err := o.explain(t.Context(), c, &out); err != nil {
		t.Fatal(err)
	}
	want := "ImagePolicy apps/podinfo chose ghcr.io/example/podinfo:6.5.4\n" +
		"Policy:       semver range >=6.0.0\n" +
		"Scan:         sha256:ab: 40 tags considered, 12 candidates\n" +
		"Why:          highest version in range\n" +
		"Candidates:   6.5.4, 6.5.3 and 10 more\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("explanation (-want +got):\n%s", diff)
	}
	out.Reset()
	o.Output = OutputJSON
	if err := o.explain(t.Context(), c, &out); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"namespace": "apps"`, `"latestRef": {`, `"why": "highest version in range"`} {
		if !strings.Contains(out.String(), field) {
			t.Errorf("-o json lacks %s:\n%s", field, out.String())
		}
	}
	if strings.Contains(out.String(), "observedPreviousRef") {
		t.Errorf("-o json shows an empty previous ref:\n%s", out.String())
	}
	o.Name = "podinf"
	if err := o.explain(t.Context(), c, &out); errString(err) != "ImagePolicy apps/podinf not found; did you mean podinfo?" {
		t.Errorf("explain of a missing policy = %v", err)
	}
}

func TestEventsForChecksTheObjectExists(t *testing.T) {
	objs := []client.Object{
		fixtureStack("team-a", "apps", time.Hour, false, ""),
		fixtureStack("team-b", "infra", time.Hour, false, ""),
		fixtureSource("team-a", "fleet", time.Hour, ""),
	}
	cases := []struct {
		name string
		o    EventsOptions
		want string
	}{
		{"no --for reads no object", EventsOptions{}, ""},
		{"an object of the namespace", EventsOptions{For: "stack/apps", Kube: KubeFlags{Namespace: "team-a"}}, ""},
		{"a source by its alias", EventsOptions{For: "gitrepo/fleet", Kube: KubeFlags{Namespace: "team-a"}}, ""},
		{"a typo in the namespace suggests the name", EventsOptions{For: "stack/aps", Kube: KubeFlags{Namespace: "team-a"}},
			"Stack team-a/aps not found; did you mean apps?"},
		{"an object of another namespace is not found", EventsOptions{For: "stack/infra", Kube: KubeFlags{Namespace: "team-a"}},
			"Stack team-a/infra not found"},
		{"with -A any namespace has it", EventsOptions{For: "stack/infra", Kube: KubeFlags{AllNamespaces: true}}, ""},
		{"with -A a typo suggests across namespaces", EventsOptions{For: "stack/infr", Kube: KubeFlags{AllNamespaces: true}},
			"--for stack/infr: no Stack infr in any namespace; did you mean infra?"},
		{"with -A a far name suggests none", EventsOptions{For: "source/payments", Kube: KubeFlags{AllNamespaces: true}},
			"--for source/payments: no GitRepository payments in any namespace"},
		{"an unknown kind", EventsOptions{For: "pod/web"}, `unknown kind "pod": use source or stack`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.checkForExists(t.Context(), newFakeClient(t, objs...))
			if got := errString(err); got != tc.want {
				t.Errorf("checkForExists = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLiveGetter(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "settings"}, Data: map[string]string{"region": "eu-west"}}
	get := liveGetter(newFakeClient(t, cm))
	m := apply.ObjMetadata{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "settings"}
	u, err := get(t.Context(), m)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Object["data"]; !cmp.Equal(got, map[string]any{"region": "eu-west"}) {
		t.Errorf("data = %v, want the live ConfigMap's", got)
	}
	m.Name = "gone"
	if _, err := get(t.Context(), m); !apierrors.IsNotFound(err) {
		t.Errorf("get(gone) = %v, want NotFound", err)
	}
}

func TestKubeFlagsOf(t *testing.T) {
	cases := []struct {
		name string
		bind func(*KubeFlags, *cobra.Command)
		args []string
		want KubeFlags
	}{
		{"defaults", func(k *KubeFlags, c *cobra.Command) { k.Bind(c.Flags()) }, nil, KubeFlags{Namespace: DefaultNamespace}},
		{"every flag", func(k *KubeFlags, c *cobra.Command) { k.Bind(c.Flags()) },
			[]string{"--kubeconfig", "/k", "--context", "prod", "-n", "team-a", "-A"},
			KubeFlags{Kubeconfig: "/k", Context: "prod", Namespace: "team-a", AllNamespaces: true}},
		{"the first of a list of contexts", func(k *KubeFlags, c *cobra.Command) { k.Bind(c.Flags()) },
			[]string{"--context", "prod,staging"}, KubeFlags{Context: "prod", Namespace: DefaultNamespace}},
		{"a verb without -A", func(k *KubeFlags, c *cobra.Command) { k.BindOne(c.Flags()) },
			[]string{"-n", "team-b"}, KubeFlags{Namespace: "team-b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := &cobra.Command{Use: "x"}
			tc.bind(&KubeFlags{}, cmd)
			if err := cmd.Flags().Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, kubeFlagsOf(cmd)); diff != "" {
				t.Errorf("kubeFlagsOf (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWithPrefix(t *testing.T) {
	names := []string{"apps", "apps-canary", "infra"}
	cases := []struct {
		prefix string
		want   []string
	}{
		{"", names},
		{"app", []string{"apps", "apps-canary"}},
		{"apps-", []string{"apps-canary"}},
		{"Apps", nil},
		{"x", nil},
	}
	for _, tc := range cases {
		if got := withPrefix(names, tc.prefix); !cmp.Equal(got, tc.want) {
			t.Errorf("withPrefix(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
}
