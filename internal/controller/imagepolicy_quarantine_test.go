package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary/ledger"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// TestQuarantineMovesThePolicyBackAndGitFollows: a policy at v1.1.0 (and
// Git at v1.1.0 through an ImageUpdate); the failed Canary quarantines
// v1.1.0; the policy goes back to v1.0.0, says why, and the ImageUpdate
// commits v1.0.0 to the real Git server. A newer tag is then chosen as
// usual, and the quarantined tag never comes back.
func TestQuarantineMovesThePolicyBackAndGitFollows(t *testing.T) {
	ctx := context.Background()
	f := newImageFixture(t)
	f.push("team/app", "one", "v1.0.0")
	digest := f.push("team/app", "two", "v1.1.0")
	image := f.reg.Host + "/team/app"
	repoKey := f.createRepository("app", image)
	polKey := f.createPolicy("app", "app", semverPolicy("^1"))
	waitLatest(t, polKey, "v1.1.0")

	r := newRepo(t)
	r.push(t, map[string]string{"apps/app.yaml": markedDeployment(f.ns, "app", image+":v1.0.0")})
	srv := gitserver.NewHTTP(t, r.root)
	createGitRepository(t, f.ns, srv.RepoURL("fleet"), withInterval(time.Hour))
	updKey := createImageUpdate(t, f.ns, "apps")
	first := waitPushed(t, updKey, "")
	r.remoteHead(t, "main")
	if got := r.wd.Git(t, "show", first.Status.LastPushCommit+":apps/app.yaml"); !strings.Contains(got, image+":v1.1.0") {
		t.Fatalf("the release commit holds:\n%s", got)
	}

	cn := &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "app"},
		Spec: v1alpha1.CanarySpec{TargetRef: v1alpha1.CanaryTargetRef{Name: "app"}, Service: v1alpha1.CanaryService{Port: 80}}}
	if err := env.Client.Create(ctx, cn); err != nil {
		t.Fatal(err)
	}
	const reason = "request-success-rate 81.5 below 99 five times"
	if err := ledger.NewRollback(env.Client).Quarantine(ctx, cn, []string{image + ":v1.1.0@" + digest, "other.example/sidecar:v1.1.0"}, reason); err != nil {
		t.Fatal(err)
	}

	pol := waitLatest(t, polKey, "v1.0.0")
	q := pol.Status.QuarantinedTags
	if len(q) != 1 || q[0].Tag != "v1.1.0" || q[0].Canary != f.ns+"/app" || q[0].Reason != reason || q[0].Time.IsZero() {
		t.Errorf("quarantinedTags = %+v", q)
	}
	why := pol.Status.Explanation.Why
	wantWhy := fmt.Sprintf("v1.1.0 is quarantined by Canary %s/app (%s); moved back to v1.0.0", f.ns, reason)
	if !strings.HasPrefix(why, wantWhy) {
		t.Errorf("explanation = %q\nwant it to start with %q", why, wantWhy)
	}
	if ex := pol.Status.Explanation.Excluded; len(ex) != 1 || ex[0].Reason != "quarantined by Canary "+f.ns+"/app" || ex[0].Examples[0] != "v1.1.0" {
		t.Errorf("excluded = %+v", ex)
	}
	if prev := pol.Status.ObservedPreviousRef; prev == nil || prev.Tag != "v1.1.0" {
		t.Errorf("observedPreviousRef = %+v", prev)
	}

	back := waitPushed(t, updKey, first.Status.LastPushCommit)
	if head := r.remoteHead(t, "main"); head != back.Status.LastPushCommit {
		t.Errorf("main = %s, the ImageUpdate pushed %s", head, back.Status.LastPushCommit)
	}
	if got := r.wd.Git(t, "show", back.Status.LastPushCommit+":apps/app.yaml"); !strings.Contains(got, image+":v1.0.0") {
		t.Errorf("the rollback commit holds:\n%s", got)
	}
	if msg := r.wd.Git(t, "log", "-1", "--format=%B", back.Status.LastPushCommit); !strings.Contains(msg, image+":v1.1.0 -> "+image+":v1.0.0") {
		t.Errorf("the rollback commit's message:\n%s", msg)
	}

	// A newer tag is chosen as usual; v1.1.0 stays out.
	f.push("team/app", "three", "v1.2.0")
	requestReconcile(t, &v1alpha1.ImageRepository{}, repoKey)
	pol = waitLatest(t, polKey, "v1.2.0")
	if len(pol.Status.QuarantinedTags) != 1 {
		t.Errorf("quarantinedTags = %+v, want v1.1.0 kept", pol.Status.QuarantinedTags)
	}
}
