package controller_test

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// TestStackWaitsForItsDependencyToApplyTheSameRevision: a commit reaches
// a dependency on the same source before its dependent. While the
// dependency waits for the health of a Deployment that never becomes
// available, the dependent waits at the old revision (Ready Unknown, no
// Warning event); when the dependency fails, the dependent says so; once
// the dependency applies a later commit, the dependent follows.
func TestStackWaitsForItsDependencyToApplyTheSameRevision(t *testing.T) {
	ns := newNamespace(t)
	f := &stackFixture{ns: ns, repo: newRepo(t)}
	old := "main@sha1:" + f.repo.push(t, map[string]string{
		"infra/a.yaml": configMap(ns, "infra", "1"),
		"apps/b.yaml":  configMap(ns, "apps", "1"),
	})
	f.key = createGitRepository(t, ns, f.repo.root.FileURL("fleet"), withInterval(time.Hour))
	waitRevision(t, f.key, old)
	infra := createStack(t, f, "infra", "infra", func(s *v1alpha1.Stack) { s.Spec.Wait = true })
	apps := createStack(t, f, "apps", "apps", func(s *v1alpha1.Stack) {
		s.Spec.DependsOn = []v1alpha1.DependencyReference{{Name: "infra"}}
	})
	waitStack(t, infra, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, old)
	waitStack(t, apps, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, old)

	before := occurrences(t, ns, v1alpha1.StackKind, "apps", v1alpha1.ReasonDependencyNotReady)
	// No controller-manager runs: the Deployment never becomes available.
	next := "main@sha1:" + f.repo.push(t, map[string]string{
		"infra/a.yaml":      configMap(ns, "infra", "2"),
		"infra/deploy.yaml": deployment(ns, "never-available", "never-available"),
		"apps/b.yaml":       configMap(ns, "apps", "2"),
	})
	requestReconcile(t, &v1alpha1.GitRepository{}, f.key)
	waitRevision(t, f.key, next)
	s := waitStack(t, apps, metav1.ConditionUnknown, v1alpha1.ReasonDependencyNotReady, old)
	if msg := stackReady(s).Message; !strings.Contains(msg, "waiting for dependency Stack "+ns+"/infra") {
		t.Errorf("the message must say what apps waits for: %q", msg)
	}
	if cm, err := getConfigMap(t, ns, "apps"); err != nil || cm.Data["value"] != "1" {
		t.Errorf("apps applied the commit before its dependency: %v %v", cm.Data, err)
	}
	if n := occurrences(t, ns, v1alpha1.StackKind, "apps", v1alpha1.ReasonDependencyNotReady); n != before {
		t.Errorf("%d DependencyNotReady events while waiting: waiting is no failure", n-before)
	}
	waitStack(t, apps, metav1.ConditionFalse, v1alpha1.ReasonDependencyNotReady, old)

	last := "main@sha1:" + f.repo.push(t, map[string]string{"infra/deploy.yaml": configMap(ns, "deploy", "gone")})
	requestReconcile(t, &v1alpha1.GitRepository{}, f.key)
	waitStack(t, infra, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, last)
	waitStack(t, apps, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, last)
	if cm, err := getConfigMap(t, ns, "apps"); err != nil || cm.Data["value"] != "2" {
		t.Errorf("apps at the last commit: %v %v", cm.Data, err)
	}
}
