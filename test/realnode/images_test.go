package realnode

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// imagesPath is the directory the image automation scenario's app lives in.
const imagesPath = "apps/images"

// testImageAutomation pushes a new tag of the app to the node's registry
// and follows it: the ImagePolicy chooses it, the ImageUpdate commits it to
// Git (only the marked value changes), the Stack applies the commit and the
// new version answers through the Service.
func testImageAutomation(t *testing.T, f *fleet) {
	ns := newNamespace(t, "images")
	createSource(t, f, ns)
	pushAppTag(t, "v1.0.0")
	repo := cluster.Registry.Host + "/app"
	marker := fmt.Sprintf(`# {"$imagepolicy": "%s:app"}`, ns)
	deployment := strings.Replace(appDeploymentYAML("app", repo+":v1.0.0", "images"),
		"image: "+repo+":v1.0.0", "image: "+repo+":v1.0.0 "+marker, 1)
	f.work.WriteFile(t, imagesPath+"/deployment.yaml", deployment)
	f.work.WriteFile(t, imagesPath+"/service.yaml", serviceYAML("app"))
	f.work.WriteFile(t, imagesPath+"/kustomization.yaml", kustomization("deployment.yaml", "service.yaml"))
	rev := gitRevision(f.push(t, "the app, its image marked for automation"))
	mustCreate(t, newStack(ns, "app", imagesPath, 3*time.Minute, true))
	waitStack(t, client.ObjectKey{Namespace: ns, Name: "app"}, rev, 3*time.Minute)
	waitVersion(t, ns, "v1.0.0")

	createImageAutomation(t, f, ns, repo)
	key := client.ObjectKey{Namespace: ns, Name: "app"}
	eventually(t, time.Minute, "the ImagePolicy to choose v1.0.0", func() (bool, string) {
		var p v1alpha1.ImagePolicy
		mustGet(t, key, &p)
		return p.Status.LatestRef != nil && p.Status.LatestRef.Tag == "v1.0.0", describeImagePolicy(&p)
	})

	before := f.head
	pushed := time.Now()
	pushAppTag(t, "v1.1.0")
	var upd v1alpha1.ImageUpdate
	eventually(t, 2*time.Minute, "the ImageUpdate to push a commit for v1.1.0", func() (bool, string) {
		mustGet(t, key, &upd)
		return upd.Status.LastPushCommit != "" && upd.Status.ObservedPolicies["app"].Tag == "v1.1.0", describeImageUpdate(&upd)
	})
	t.Logf("a pushed tag became a commit in %s", time.Since(pushed).Round(100*time.Millisecond))
	f.pull(t)
	if f.head != upd.Status.LastPushCommit {
		t.Fatalf("main is at %s, the ImageUpdate says it pushed %s", f.head, upd.Status.LastPushCommit)
	}
	checkImageCommit(t, f, before, repo, marker)

	waitStack(t, key, gitRevision(f.head), 3*time.Minute)
	dep := waitAvailable(t, key, 2*time.Minute)
	if got, want := dep.Spec.Template.Spec.Containers[0].Image, repo+":v1.1.0"; got != want {
		t.Errorf("the Deployment runs %s, want %s", got, want)
	}
	waitVersion(t, ns, "v1.1.0")
	checkNoCredentials(t, ns, f.password, cluster.Registry.Password)
}

// pushAppTag pushes the example app, built with version tag, to the node's
// registry as app:tag.
func pushAppTag(t *testing.T, tag string) {
	t.Helper()
	img, err := appImageOf(context.Background(), tag)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Push(context.Background(), img, cluster.Registry.Host+"/app:"+tag); err != nil {
		t.Fatal(err)
	}
}

// createImageAutomation creates the registry's credentials and CA, and an
// ImageRepository, ImagePolicy and ImageUpdate "app" that follow repo's
// semver tags into imagesPath on main.
func createImageAutomation(t *testing.T, f *fleet, ns, repo string) {
	t.Helper()
	ca, err := os.ReadFile(cluster.Registry.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	auth := base64.StdEncoding.EncodeToString([]byte(cluster.Registry.Username + ":" + cluster.Registry.Password))
	dockerConfig, _ := json.Marshal(map[string]any{"auths": map[string]any{cluster.Registry.Host: map[string]string{"auth": auth}}})
	mustCreate(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "registry"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: dockerConfig},
	})
	mustCreate(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "registry-ca"},
		Data:       map[string][]byte{"ca.crt": ca},
	})
	mustCreate(t, &v1alpha1.ImageRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
		Spec: v1alpha1.ImageRepositorySpec{
			Image:         repo,
			Interval:      metav1.Duration{Duration: 2 * time.Second},
			SecretRef:     &v1alpha1.LocalObjectReference{Name: "registry"},
			CertSecretRef: &v1alpha1.LocalObjectReference{Name: "registry-ca"},
		},
	})
	mustCreate(t, &v1alpha1.ImagePolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
		Spec: v1alpha1.ImagePolicySpec{
			ImageRepositoryRef: v1alpha1.LocalObjectReference{Name: "app"},
			FilterTags:         &v1alpha1.TagFilter{Pattern: `^v\d+\.\d+\.\d+$`},
			Policy:             v1alpha1.ImagePolicyChoice{SemVer: &v1alpha1.SemVerPolicy{Range: ">=1.0.0"}},
		},
	})
	mustCreate(t, &v1alpha1.ImageUpdate{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
		Spec: v1alpha1.ImageUpdateSpec{
			SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: "fleet"},
			Interval:  metav1.Duration{Duration: 5 * time.Second},
			Update:    &v1alpha1.UpdateStrategy{Strategy: "Setters", Path: imagesPath},
			Git: v1alpha1.GitUpdateSpec{
				Checkout: &v1alpha1.GitCheckoutSpec{Ref: v1alpha1.GitRepositoryRef{Branch: "main"}},
				Commit: v1alpha1.CommitSpec{
					Author:          v1alpha1.CommitUser{Name: "Flotilla", Email: "flotilla@example.com"},
					MessageTemplate: "images: {{ range .Changed.Changes }}{{ .OldValue }} -> {{ .NewValue }} {{ end }}",
				},
				Push: &v1alpha1.PushSpec{Branch: "main"},
			},
		},
	})
}

// checkImageCommit checks that the commits since before changed only the
// marked image value of the Deployment, with the templated message.
func checkImageCommit(t *testing.T, f *fleet, before, repo, marker string) {
	t.Helper()
	if files := strings.TrimSpace(f.work.Git(t, "diff", "--name-only", before, f.head)); files != imagesPath+"/deployment.yaml" {
		t.Errorf("the image commit changed %q, want only %s/deployment.yaml", files, imagesPath)
	}
	var removed, added []string
	for _, line := range strings.Split(f.work.Git(t, "diff", "--unified=0", before, f.head), "\n") {
		switch {
		case strings.HasPrefix(line, "---"), strings.HasPrefix(line, "+++"):
		case strings.HasPrefix(line, "-"):
			removed = append(removed, line[1:])
		case strings.HasPrefix(line, "+"):
			added = append(added, line[1:])
		}
	}
	wantOld, wantNew := "          image: "+repo+":v1.0.0 "+marker, "          image: "+repo+":v1.1.0 "+marker
	if len(removed) != 1 || len(added) != 1 || removed[0] != wantOld || added[0] != wantNew {
		t.Errorf("the image commit's diff:\n-%q\n+%q\nwant one line, -%q +%q", removed, added, wantOld, wantNew)
	}
	msg := f.work.Git(t, "log", "-1", "--format=%an <%ae>%n%B", f.head)
	if !strings.Contains(msg, "Flotilla <flotilla@example.com>") || !strings.Contains(msg, "images: "+repo+":v1.0.0 -> "+repo+":v1.1.0") {
		t.Errorf("the image commit's author and message:\n%s", msg)
	}
}

// waitVersion waits until the app's Service in ns answers /version with want.
func waitVersion(t *testing.T, ns, want string) {
	t.Helper()
	var svc corev1.Service
	mustGet(t, client.ObjectKey{Namespace: ns, Name: "app"}, &svc)
	url := fmt.Sprintf("http://%s/version", svc.Spec.ClusterIP)
	eventually(t, 2*time.Minute, "GET "+url+" to answer "+want, func() (bool, string) {
		code, body, err := httpGet(url)
		if err != nil {
			return false, err.Error()
		}
		return code == 200 && strings.Contains(body, want), fmt.Sprintf("%d %s", code, body)
	})
}

// checkNoCredentials fails when a secret appears in the image kinds'
// status or in the namespace's events.
func checkNoCredentials(t *testing.T, ns string, secrets ...string) {
	t.Helper()
	ctx := context.Background()
	var (
		repos    v1alpha1.ImageRepositoryList
		policies v1alpha1.ImagePolicyList
		updates  v1alpha1.ImageUpdateList
		events   corev1.EventList
	)
	for _, l := range []client.ObjectList{&repos, &policies, &updates, &events} {
		if err := cluster.Client.List(ctx, l, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(l)
		for _, s := range secrets {
			if strings.Contains(string(b), s) || strings.Contains(string(b), base64.StdEncoding.EncodeToString([]byte(s))) {
				t.Errorf("a credential appears in %T of %s", l, ns)
			}
		}
	}
}

func describeImagePolicy(p *v1alpha1.ImagePolicy) string {
	b, _ := json.Marshal(p.Status)
	return string(b)
}

func describeImageUpdate(u *v1alpha1.ImageUpdate) string {
	b, _ := json.Marshal(u.Status)
	return string(b)
}
