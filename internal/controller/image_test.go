package controller_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/controller"
	"github.com/flotilla-io/flotilla/internal/image/tagstore"
	"github.com/flotilla-io/flotilla/internal/ociimage/ocitest"
)

const (
	registryUser     = "scanner"
	registryPassword = "registry-pw-6f1d2c"
)

// imageFixture is a namespace with a test registry, the Secrets to reach
// it, and helpers to create image objects there.
type imageFixture struct {
	t   *testing.T
	ns  string
	reg ocitest.Registry
}

func newImageFixture(t *testing.T) *imageFixture {
	t.Helper()
	f := &imageFixture{t: t, ns: newNamespace(t), reg: ocitest.NewRegistry(t, registryUser, registryPassword)}
	ca, err := f.reg.CAPEM()
	if err != nil {
		t.Fatal(err)
	}
	createSecret(t, f.ns, "registry-ca", map[string][]byte{"ca.crt": ca})
	f.setCredentials(registryPassword, true)
	return f
}

// dockerConfigJSON is the .dockerconfigjson of a docker-registry Secret.
func dockerConfigJSON(host, user, password string) []byte {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	return fmt.Appendf(nil, `{"auths":{%q:{"username":%q,"password":%q,"auth":%q}}}`, host, user, password, auth)
}

// setCredentials creates or updates the registry-creds Secret.
func (f *imageFixture) setCredentials(password string, create bool) {
	f.t.Helper()
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "registry-creds"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: dockerConfigJSON(f.reg.Host, registryUser, password)},
	}
	var err error
	if create {
		err = env.Client.Create(context.Background(), s)
	} else {
		err = env.Client.Update(context.Background(), s)
	}
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *imageFixture) push(repo, seed string, tags ...string) string {
	f.t.Helper()
	return ocitest.PushTags(f.t, f.reg, registryUser, registryPassword, repo, seed, tags...).String()
}

func (f *imageFixture) createRepository(name, image string, mutate ...func(*v1alpha1.ImageRepository)) client.ObjectKey {
	f.t.Helper()
	obj := &v1alpha1.ImageRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name},
		Spec: v1alpha1.ImageRepositorySpec{
			Image:         image,
			Interval:      metav1.Duration{Duration: time.Hour},
			SecretRef:     &v1alpha1.LocalObjectReference{Name: "registry-creds"},
			CertSecretRef: &v1alpha1.LocalObjectReference{Name: "registry-ca"},
		},
	}
	for _, m := range mutate {
		m(obj)
	}
	if err := env.Client.Create(context.Background(), obj); err != nil {
		f.t.Fatal(err)
	}
	return client.ObjectKeyFromObject(obj)
}

func (f *imageFixture) createPolicy(name, repo string, spec v1alpha1.ImagePolicySpec) client.ObjectKey {
	f.t.Helper()
	spec.ImageRepositoryRef = v1alpha1.LocalObjectReference{Name: repo}
	obj := &v1alpha1.ImagePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name}, Spec: spec}
	if err := env.Client.Create(context.Background(), obj); err != nil {
		f.t.Fatal(err)
	}
	return client.ObjectKeyFromObject(obj)
}

func semverPolicy(r string) v1alpha1.ImagePolicySpec {
	return v1alpha1.ImagePolicySpec{Policy: v1alpha1.ImagePolicyChoice{SemVer: &v1alpha1.SemVerPolicy{Range: r}}}
}

// waitCondition waits until obj's Ready condition passes check at the
// current generation.
func waitCondition(t *testing.T, key client.ObjectKey, obj interface {
	client.Object
	GetConditions() []metav1.Condition
}, what string, check func(*metav1.Condition) error) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s %s: %s", obj.GetObjectKind().GroupVersionKind().Kind, key, what), func() error {
		if err := get(t, key, obj); err != nil {
			return err
		}
		ready := meta.FindStatusCondition(obj.GetConditions(), v1alpha1.ReadyCondition)
		if ready == nil || ready.ObservedGeneration != obj.GetGeneration() {
			return fmt.Errorf("ready condition %+v not current", ready)
		}
		return check(ready)
	})
}

func readyIs(status metav1.ConditionStatus, reason string) func(*metav1.Condition) error {
	return func(c *metav1.Condition) error {
		if c.Status != status || (reason != "" && c.Reason != reason) {
			return fmt.Errorf("ready %s/%s: %s", c.Status, c.Reason, c.Message)
		}
		return nil
	}
}

// waitLatest waits for the policy to be Ready with latestRef.tag == tag.
func waitLatest(t *testing.T, key client.ObjectKey, tag string) *v1alpha1.ImagePolicy {
	t.Helper()
	pol := &v1alpha1.ImagePolicy{}
	waitCondition(t, key, pol, "latest tag "+tag, func(c *metav1.Condition) error {
		if err := readyIs(metav1.ConditionTrue, "")(c); err != nil {
			return err
		}
		if pol.Status.LatestRef == nil || pol.Status.LatestRef.Tag != tag {
			return fmt.Errorf("latestRef %+v", pol.Status.LatestRef)
		}
		return nil
	})
	return pol
}

// assertNothingLeaks fails when an Event of ns or any of objs carries the
// password, in clear or in base64 (alone or in user:password form).
func assertNothingLeaks(t *testing.T, ns, password string, objs ...client.Object) {
	t.Helper()
	forms := []string{password, base64.StdEncoding.EncodeToString([]byte(password)),
		base64.StdEncoding.EncodeToString([]byte(registryUser + ":" + password))}
	var evs eventsv1.EventList
	if err := env.Client.List(context.Background(), &evs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range evs.Items {
		texts = append(texts, e.Note+" "+e.Reason)
	}
	for _, o := range objs {
		if err := get(t, client.ObjectKeyFromObject(o), o); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(o)
		texts = append(texts, string(b))
	}
	for _, text := range texts {
		for _, f := range forms {
			if strings.Contains(text, f) {
				t.Errorf("a credential is in %q", text)
			}
		}
	}
}

func eventNotes(t *testing.T, ns, reason string) []string {
	t.Helper()
	var evs eventsv1.EventList
	if err := env.Client.List(context.Background(), &evs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var notes []string
	for _, e := range evs.Items {
		if e.Reason == reason {
			notes = append(notes, e.Note)
		}
	}
	return notes
}

func TestImageScanAndPolicies(t *testing.T) {
	f := newImageFixture(t)
	digest := f.push("team/app", "one", "1.0.0", "1.2.0", "1.10.0", "2.0.0-rc.1", "latest", "1.10.0.sig")
	f.push("team/app", "two", "build-5", "build-12", "build-9")
	image := f.reg.Host + "/team/app"
	repoKey := f.createRepository("app", image)

	repo := &v1alpha1.ImageRepository{}
	waitCondition(t, repoKey, repo, "scanned", readyIs(metav1.ConditionTrue, v1alpha1.ReasonSucceeded))
	scan := repo.Status.LastScanResult
	if scan.TagCount != 8 || repo.Status.CanonicalImageName != image || scan.Revision == "" {
		t.Fatalf("scan result %+v, canonical name %q", scan, repo.Status.CanonicalImageName)
	}
	if diff := cmp.Diff([]string{"latest", "build-9", "build-5", "build-12", "2.0.0-rc.1", "1.2.0", "1.10.0", "1.0.0"}, scan.LatestTags); diff != "" {
		t.Errorf("latestTags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{`^.*\.sig$`}, repo.Status.ObservedExclusionList); diff != "" {
		t.Errorf("observedExclusionList (-want +got):\n%s", diff)
	}

	semverKey := f.createPolicy("semver", "app", semverPolicy("^1.0"))
	reflect := semverPolicy(">=1.0.0")
	reflect.DigestReflectionPolicy = v1alpha1.ReflectIfNotPresent
	reflectKey := f.createPolicy("digest", "app", reflect)
	alphaKey := f.createPolicy("alphabetical", "app", v1alpha1.ImagePolicySpec{
		Policy: v1alpha1.ImagePolicyChoice{Alphabetical: &v1alpha1.AlphabeticalPolicy{Order: v1alpha1.SortDescending}}})
	numKey := f.createPolicy("numerical", "app", v1alpha1.ImagePolicySpec{
		Policy:     v1alpha1.ImagePolicyChoice{Numerical: &v1alpha1.NumericalPolicy{Order: v1alpha1.SortAscending}},
		FilterTags: &v1alpha1.TagFilter{Pattern: `^build-(?P<n>[0-9]+)$`, Extract: "$n"}})

	pol := waitLatest(t, semverKey, "1.10.0")
	if pol.Status.LatestRef.Name != image || pol.Status.LatestRef.Digest != "" {
		t.Errorf("latestRef %+v: want the image and no digest (digestReflectionPolicy Never)", pol.Status.LatestRef)
	}
	ex := pol.Status.Explanation
	if ex == nil || ex.Considered != 8 || ex.CandidateCount != 3 || ex.ScanRevision != scan.Revision ||
		!strings.Contains(ex.Why, "1.10.0 is first by semver range ^1.0") {
		t.Errorf("explanation %+v", ex)
	}
	if got := waitLatest(t, reflectKey, "1.10.0").Status.LatestRef.Digest; got != digest {
		t.Errorf("reflected digest %q, want %q", got, digest)
	}
	waitLatest(t, alphaKey, "1.0.0")
	waitLatest(t, numKey, "build-12")
	if notes := eventNotes(t, f.ns, "NewImageTag"); len(notes) < 4 {
		t.Errorf("NewImageTag events: %q", notes)
	}
	assertNothingLeaks(t, f.ns, registryPassword, repo, pol)
}

func TestImageRepositoryTooManyTagsIsStalledNamingCountAndBound(t *testing.T) {
	f := newImageFixture(t)
	f.push("app", "x", "a", "b", "c", "d", "e.sig")
	key := f.createRepository("app", f.reg.Host+"/app", func(r *v1alpha1.ImageRepository) { r.Spec.MaxTags = new(int32(3)) })
	repo := &v1alpha1.ImageRepository{}
	waitCondition(t, key, repo, "too many tags", func(c *metav1.Condition) error {
		if err := readyIs(metav1.ConditionFalse, v1alpha1.ReasonTooManyTags)(c); err != nil {
			return err
		}
		if !strings.Contains(c.Message, "4 tags") || !strings.Contains(c.Message, "maxTags 3") {
			return fmt.Errorf("message %q does not name the count 4 and the bound 3", c.Message)
		}
		if !meta.IsStatusConditionTrue(repo.Status.Conditions, v1alpha1.StalledCondition) {
			return fmt.Errorf("not Stalled")
		}
		return nil
	})
}

func TestImageCredentialsRefusedAndRegistryDownKeepTheLastChoice(t *testing.T) {
	f := newImageFixture(t)
	f.push("app", "x", "1.0.0", "1.1.0")
	repoKey := f.createRepository("app", f.reg.Host+"/app")
	polKey := f.createPolicy("app", "app", semverPolicy("*"))
	waitLatest(t, polKey, "1.1.0")

	const wrong = "wrong-pw-93b1e7"
	f.setCredentials(wrong, false) // the Secret watch rescans
	repo := &v1alpha1.ImageRepository{}
	waitCondition(t, repoKey, repo, "credentials refused", func(c *metav1.Condition) error {
		if err := readyIs(metav1.ConditionFalse, v1alpha1.ReasonAuthenticationFailed)(c); err != nil {
			return err
		}
		if !strings.Contains(c.Message, "still serving the 2 tags") {
			return fmt.Errorf("message %q does not say the last scan is kept", c.Message)
		}
		return nil
	})
	pol := waitLatest(t, polKey, "1.1.0")
	assertNothingLeaks(t, f.ns, wrong, repo, pol)
	assertNothingLeaks(t, f.ns, registryPassword, repo, pol)

	f.setCredentials(registryPassword, false)
	waitCondition(t, repoKey, repo, "credentials fixed", readyIs(metav1.ConditionTrue, ""))
	f.reg.Close()
	requestReconcile(t, repo, repoKey)
	waitCondition(t, repoKey, repo, "registry down", readyIs(metav1.ConditionFalse, v1alpha1.ReasonRegistryUnreachable))
	if repo.Status.LastScanResult == nil || repo.Status.LastScanResult.TagCount != 2 {
		t.Errorf("last scan not kept: %+v", repo.Status.LastScanResult)
	}
	waitLatest(t, polKey, "1.1.0")
}

func TestImageRepositoryNeverReachedIsUnreachable(t *testing.T) {
	f := newImageFixture(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	key := f.createRepository("down", addr+"/app")
	polKey := f.createPolicy("down", "down", semverPolicy("*"))
	waitCondition(t, key, &v1alpha1.ImageRepository{}, "unreachable", readyIs(metav1.ConditionFalse, v1alpha1.ReasonRegistryUnreachable))
	waitCondition(t, polKey, &v1alpha1.ImagePolicy{}, "no scan", readyIs(metav1.ConditionFalse, v1alpha1.ReasonImageRepositoryNotReady))
}

func TestImagePolicyBadSpecIsStalledNamingTheField(t *testing.T) {
	f := newImageFixture(t)
	f.push("app", "x", "1.0.0")
	f.createRepository("app", f.reg.Host+"/app")
	cases := map[string]v1alpha1.ImagePolicySpec{
		"spec.policy.semver.range": semverPolicy(">=1.0 <<2"),
		"spec.filterTags.pattern":  {Policy: semverPolicy("*").Policy, FilterTags: &v1alpha1.TagFilter{Pattern: "^(v"}},
	}
	for field, spec := range cases {
		key := f.createPolicy(strings.ReplaceAll(strings.ToLower(field), ".", "-"), "app", spec)
		pol := &v1alpha1.ImagePolicy{}
		waitCondition(t, key, pol, "stalled on "+field, func(c *metav1.Condition) error {
			if err := readyIs(metav1.ConditionFalse, v1alpha1.ReasonInvalidSpec)(c); err != nil {
				return err
			}
			if !strings.HasPrefix(c.Message, field) || !meta.IsStatusConditionTrue(pol.Status.Conditions, v1alpha1.StalledCondition) {
				return fmt.Errorf("not Stalled naming %s: %q", field, c.Message)
			}
			return nil
		})
	}
	key := f.createRepository("bad-exclusion", f.reg.Host+"/app", func(r *v1alpha1.ImageRepository) { r.Spec.ExclusionList = []string{"ok", "(("} })
	waitCondition(t, key, &v1alpha1.ImageRepository{}, "stalled on the exclusion list", func(c *metav1.Condition) error {
		if c.Reason != v1alpha1.ReasonInvalidSpec || !strings.HasPrefix(c.Message, "spec.exclusionList[1]") {
			return fmt.Errorf("ready %s: %q", c.Reason, c.Message)
		}
		return nil
	})
}

func TestImagePolicyNeverMovesBackwardsUnlessThePolicyChanges(t *testing.T) {
	f := newImageFixture(t)
	f.push("app", "x", "1.0.0", "1.2.0", "1.10.0")
	repoKey := f.createRepository("app", f.reg.Host+"/app")
	polKey := f.createPolicy("app", "app", semverPolicy("^1"))
	waitLatest(t, polKey, "1.10.0")

	// A partial scan (here: the newest tag excluded) does not move it back.
	setExclusion(t, repoKey, `^1\.10`)
	pol := &v1alpha1.ImagePolicy{}
	waitCondition(t, polKey, pol, "a partial scan seen", func(c *metav1.Condition) error {
		if pol.Status.Explanation == nil || pol.Status.Explanation.Considered != 2 {
			return fmt.Errorf("explanation %+v", pol.Status.Explanation)
		}
		return nil
	})
	if pol.Status.LatestRef.Tag != "1.10.0" || !strings.Contains(pol.Status.Explanation.Why, "never moves backwards") {
		t.Fatalf("after a partial scan: latestRef %+v, why %q", pol.Status.LatestRef, pol.Status.Explanation.Why)
	}

	// An empty scan neither.
	setExclusion(t, repoKey, `.*`)
	waitCondition(t, polKey, pol, "an empty scan seen", func(c *metav1.Condition) error {
		if pol.Status.Explanation == nil || pol.Status.Explanation.Considered != 0 {
			return fmt.Errorf("explanation %+v", pol.Status.Explanation)
		}
		return readyIs(metav1.ConditionTrue, "")(c)
	})
	if pol.Status.LatestRef.Tag != "1.10.0" {
		t.Fatalf("after an empty scan: latestRef %+v", pol.Status.LatestRef)
	}

	// A restarted agent reads the stored scan from disk and keeps it too.
	restarted := &controller.ImagePolicyReconciler{
		Client: env.Client, Tags: tagstore.New(filepath.Join(dataDir, "image-tags")),
		Events: events.NewFakeRecorder(10),
	}
	if _, err := restarted.Reconcile(context.Background(), ctrl.Request{NamespacedName: polKey}); err != nil {
		t.Fatal(err)
	}
	waitLatest(t, polKey, "1.10.0")

	// A change of the policy may move it back, and says where from.
	setExclusion(t, repoKey, `^1\.10`)
	if err := get(t, polKey, pol); err != nil {
		t.Fatal(err)
	}
	polPatch := client.MergeFrom(pol.DeepCopy()) // the controller writes its status meanwhile
	pol.Spec.Policy.SemVer.Range = "<1.5"
	if err := env.Client.Patch(context.Background(), pol, polPatch); err != nil {
		t.Fatal(err)
	}
	pol = waitLatest(t, polKey, "1.2.0")
	if prev := pol.Status.ObservedPreviousRef; prev == nil || prev.Tag != "1.10.0" {
		t.Fatalf("observedPreviousRef %+v, want 1.10.0", prev)
	}
}

func setExclusion(t *testing.T, key client.ObjectKey, patterns ...string) {
	t.Helper()
	repo := &v1alpha1.ImageRepository{}
	if err := get(t, key, repo); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(repo.DeepCopy()) // the controller writes its status meanwhile
	repo.Spec.ExclusionList = patterns
	if err := env.Client.Patch(context.Background(), repo, patch); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, key, repo, "rescanned", readyIs(metav1.ConditionTrue, ""))
}
