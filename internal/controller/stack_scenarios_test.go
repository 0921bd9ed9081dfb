package controller_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/redact"
)

// Scenario tests of docs/stack.md, each against the real API server.

// scenario starts a fixture (namespace, GitRepository "fleet") and pushes
// the files, which may depend on the namespace; it returns the revision.
func scenario(t *testing.T, files func(ns string) map[string]string) (*stackFixture, string) {
	t.Helper()
	f, _ := newStackFixture(t, map[string]string{"README.md": "# fleet\n"})
	return f, f.update(t, files(f.ns))
}

// patchStack changes a Stack's spec with a merge patch.
func patchStack(t *testing.T, key client.ObjectKey, mutate func(*v1alpha1.Stack)) {
	t.Helper()
	s := &v1alpha1.Stack{}
	if err := get(t, key, s); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(s.DeepCopy())
	mutate(s)
	if err := env.Client.Patch(context.Background(), s, patch); err != nil {
		t.Fatalf("patching Stack %s: %v", key, err)
	}
}

// waitStackFailed waits until Ready is False with reason for the current
// generation, after an attempt at revision.
func waitStackFailed(t *testing.T, key client.ObjectKey, reason, revision string) *v1alpha1.Stack {
	t.Helper()
	s := &v1alpha1.Stack{}
	eventually(t, fmt.Sprintf("Stack %s Ready=False %s at %s", key, reason, revision), func() error {
		if err := get(t, key, s); err != nil {
			return err
		}
		c := stackReady(s)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != reason || c.ObservedGeneration != s.Generation {
			return fmt.Errorf("ready = %+v", c)
		}
		if s.Status.LastAttemptedRevision != revision {
			return fmt.Errorf("lastAttemptedRevision = %s", s.Status.LastAttemptedRevision)
		}
		return nil
	})
	return s
}

func annotatedConfigMap(ns, name, value, key, annotation string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\n  annotations:\n    %s: %s\ndata:\n  value: %q\n",
		name, ns, key, annotation, value)
}

func deployment(ns, name, app string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
  namespace: %s
spec:
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
`, name, ns, app, app)
}

func notFound(t *testing.T, what string, err error) {
	t.Helper()
	if !apierrors.IsNotFound(err) {
		t.Errorf("%s must not exist, get = %v", what, err)
	}
}

// 1. flotilla.io/prune: disabled keeps an object that left Git.
func TestStackScenarioPruneDisabledAnnotation(t *testing.T) {
	f, _ := scenario(t, func(ns string) map[string]string {
		return map[string]string{
			"app/keep.yaml": annotatedConfigMap(ns, "keep", "1", "flotilla.io/prune", "disabled"),
			"app/gone.yaml": configMap(ns, "gone", "1"),
			"app/stay.yaml": configMap(ns, "stay", "1"),
		}
	})
	ns := f.ns
	key := createStack(t, f, "app", "app")
	s := waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "")
	if got := strings.Join(inventoryNames(s), ","); got != "ConfigMap/gone,ConfigMap/keep,ConfigMap/stay" {
		t.Fatalf("inventory = %s", got)
	}

	rev := f.update(t, map[string]string{"app/keep.yaml": "", "app/gone.yaml": ""})
	s = waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)
	cm, err := getConfigMap(t, ns, "keep")
	if err != nil {
		t.Fatalf("an object annotated flotilla.io/prune: disabled must stay: %v", err)
	}
	if cm.Annotations["flotilla.io/prune"] != "disabled" || cm.Data["value"] != "1" {
		t.Errorf("kept object changed: %v %v", cm.Annotations, cm.Data)
	}
	if _, owned := cm.Labels["stack.flotilla.io/name"]; owned {
		t.Errorf("a kept object is released: the Stack's owner labels must go, so another Stack may adopt it: %v", cm.Labels)
	}
	_, err = getConfigMap(t, ns, "gone")
	notFound(t, "the removed object without the annotation", err)
	if got := strings.Join(inventoryNames(s), ","); got != "ConfigMap/stay" {
		t.Errorf("inventory after prune = %s, want ConfigMap/stay only", got)
	}
	if c := s.Status.LastChange; c == nil || c.Deleted != 1 {
		t.Errorf("lastChange = %+v, want 1 deleted (the kept object is not deleted)", c)
	}
}

// 2. An immutable field needs force: true; force recreates the object.
func TestStackScenarioImmutableFieldNeedsForce(t *testing.T) {
	f, _ := scenario(t, func(ns string) map[string]string {
		return map[string]string{"app/deploy.yaml": deployment(ns, "web", "web")}
	})
	ns := f.ns
	key := createStack(t, f, "app", "app")
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "")
	var before appsv1.Deployment
	if err := get(t, client.ObjectKey{Namespace: ns, Name: "web"}, &before); err != nil {
		t.Fatal(err)
	}

	rev := f.update(t, map[string]string{"app/deploy.yaml": deployment(ns, "web", "web-v2")})
	s := waitStackFailed(t, key, v1alpha1.ReasonValidationFailed, rev)
	msg := stackReady(s).Message
	for _, want := range []string{"Deployment/" + ns + "/web", "spec.selector", "force"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message must contain %q: %q", want, msg)
		}
	}
	var live appsv1.Deployment
	if err := get(t, client.ObjectKey{Namespace: ns, Name: "web"}, &live); err != nil {
		t.Fatal(err)
	}
	if live.UID != before.UID || live.Spec.Selector.MatchLabels["app"] != "web" || live.Spec.Template.Labels["app"] != "web" {
		t.Errorf("the live Deployment must be unchanged: uid %s (was %s), selector %v, template labels %v",
			live.UID, before.UID, live.Spec.Selector.MatchLabels, live.Spec.Template.Labels)
	}

	patchStack(t, key, func(s *v1alpha1.Stack) { s.Spec.Force = true })
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)
	if err := get(t, client.ObjectKey{Namespace: ns, Name: "web"}, &live); err != nil {
		t.Fatal(err)
	}
	if live.Spec.Selector.MatchLabels["app"] != "web-v2" {
		t.Errorf("selector = %v, want app: web-v2", live.Spec.Selector.MatchLabels)
	}
	if live.UID == before.UID {
		t.Errorf("force must recreate the Deployment: same UID %s", live.UID)
	}
}

// 3. A CRD and its custom resources in one Stack, the resource's file first.
func TestStackScenarioCRDAndCustomResources(t *testing.T) {
	var group string
	f, rev := scenario(t, func(ns string) map[string]string {
		group = ns + ".scenarios.flotilla.io"
		crd := fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.%[1]s
spec:
  group: %[1]s
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
`, group)
		widget := fmt.Sprintf("apiVersion: %s/v1\nkind: Widget\nmetadata:\n  name: w1\n  namespace: %s\nspec:\n  size: 3\n", group, ns)
		return map[string]string{"app/a-widget.yaml": widget, "app/z-crd.yaml": crd}
	})
	t.Cleanup(func() {
		crd := &unstructured.Unstructured{}
		crd.SetAPIVersion("apiextensions.k8s.io/v1")
		crd.SetKind("CustomResourceDefinition")
		crd.SetName("widgets." + group)
		_ = env.Client.Delete(context.Background(), crd)
	})
	ns := f.ns
	key := createStack(t, f, "app", "app")
	s := waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)

	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	if err := get(t, client.ObjectKey{Name: "widgets." + group}, crd); err != nil {
		t.Fatalf("the CRD must exist: %v", err)
	}
	w := &unstructured.Unstructured{}
	w.SetAPIVersion(group + "/v1")
	w.SetKind("Widget")
	if err := get(t, client.ObjectKey{Namespace: ns, Name: "w1"}, w); err != nil {
		t.Fatalf("the custom resource must exist: %v", err)
	}
	if size, _, _ := unstructured.NestedInt64(w.Object, "spec", "size"); size != 3 {
		t.Errorf("widget spec.size = %d", size)
	}
	want := []v1alpha1.InventoryEntry{
		{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition", Name: "widgets." + group},
		{Group: group, Version: "v1", Kind: "Widget", Namespace: ns, Name: "w1"},
	}
	if fmt.Sprint(s.Status.Inventory) != fmt.Sprint(want) {
		t.Errorf("inventory = %+v, want %+v", s.Status.Inventory, want)
	}
}

// 4. A Namespace and its objects in one Stack, the Namespace new.
func TestStackScenarioNamespaceAndItsObjects(t *testing.T) {
	var target string
	f, rev := scenario(t, func(ns string) map[string]string {
		target = ns + "-apps"
		return map[string]string{
			"app/a-config.yaml": configMap(target, "config", "1"),
			"app/b-sa.yaml":     fmt.Sprintf("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: runner\n  namespace: %s\n", target),
			"app/z-ns.yaml":     fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", target),
		}
	})
	if err := get(t, client.ObjectKey{Name: target}, &corev1.Namespace{}); !apierrors.IsNotFound(err) {
		t.Fatalf("namespace %s must not exist beforehand: %v", target, err)
	}
	key := createStack(t, f, "app", "app")
	s := waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)
	var nsObj corev1.Namespace
	if err := get(t, client.ObjectKey{Name: target}, &nsObj); err != nil {
		t.Fatalf("namespace: %v", err)
	}
	if nsObj.Labels["stack.flotilla.io/name"] != "app" {
		t.Errorf("namespace labels = %v", nsObj.Labels)
	}
	if cm, err := getConfigMap(t, target, "config"); err != nil || cm.Data["value"] != "1" {
		t.Errorf("configmap in the new namespace: %v %v", cm.Data, err)
	}
	if err := get(t, client.ObjectKey{Namespace: target, Name: "runner"}, &corev1.ServiceAccount{}); err != nil {
		t.Errorf("service account in the new namespace: %v", err)
	}
	if got := strings.Join(inventoryNames(s), ","); got != "ConfigMap/config,Namespace/"+target+",ServiceAccount/runner" {
		t.Errorf("inventory = %s", got)
	}
}

// 5. Two Stacks never fight over one object.
func TestStackScenarioTwoStacksClaimOneObject(t *testing.T) {
	f, rev := scenario(t, func(ns string) map[string]string {
		return map[string]string{
			"first/cm.yaml":  configMap(ns, "shared", "first"),
			"second/cm.yaml": configMap(ns, "shared", "second"),
		}
	})
	ns := f.ns
	first := createStack(t, f, "first", "first")
	waitStack(t, first, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)
	second := createStack(t, f, "second", "second")
	s := waitStackFailed(t, second, v1alpha1.ReasonValidationFailed, rev)
	msg := stackReady(s).Message
	for _, want := range []string{"ConfigMap/" + ns + "/shared", "Stack " + ns + "/first"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message must contain %q: %q", want, msg)
		}
	}
	if len(s.Status.Inventory) != 0 {
		t.Errorf("the refused Stack owns nothing: %v", inventoryNames(s))
	}
	cm, err := getConfigMap(t, ns, "shared")
	if err != nil {
		t.Fatal(err)
	}
	if cm.Labels["stack.flotilla.io/name"] != "first" || cm.Labels["stack.flotilla.io/namespace"] != ns || cm.Data["value"] != "first" {
		t.Errorf("the ConfigMap must stay the first Stack's: labels %v data %v", cm.Labels, cm.Data)
	}
	if s := waitStack(t, first, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev); len(s.Status.Inventory) != 1 {
		t.Errorf("first Stack inventory = %v", inventoryNames(s))
	}
}

// 6. targetNamespace puts objects without a namespace in the target.
func TestStackScenarioTargetNamespace(t *testing.T) {
	f, rev := scenario(t, func(string) map[string]string {
		return map[string]string{
			"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  value: \"1\"\n",
			"app/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: runner\n",
		}
	})
	target := newNamespace(t)
	key := createStack(t, f, "app", "app", func(s *v1alpha1.Stack) { s.Spec.TargetNamespace = target })
	s := waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)
	if cm, err := getConfigMap(t, target, "settings"); err != nil || cm.Data["value"] != "1" {
		t.Errorf("configmap in the target namespace: %v %v", cm.Data, err)
	}
	if err := get(t, client.ObjectKey{Namespace: target, Name: "runner"}, &corev1.ServiceAccount{}); err != nil {
		t.Errorf("service account in the target namespace: %v", err)
	}
	_, err := getConfigMap(t, f.ns, "settings")
	notFound(t, "the configmap in the Stack's own namespace", err)
	for _, e := range s.Status.Inventory {
		if e.Namespace != target {
			t.Errorf("inventory entry %+v not in the target namespace %s", e, target)
		}
	}
	if len(s.Status.Inventory) != 2 {
		t.Errorf("inventory = %v", inventoryNames(s))
	}
}

// 7. serviceAccountName: the Stack can do only what the account may.
func TestStackScenarioImpersonationRefusedByRBAC(t *testing.T) {
	f, rev := scenario(t, func(ns string) map[string]string {
		return map[string]string{
			"app/cm.yaml":     configMap(ns, "allowed", "1"),
			"app/secret.yaml": fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: forbidden\n  namespace: %s\nstringData:\n  k: v\n", ns),
		}
	})
	ns := f.ns
	createDeployer(t, ns)
	key := createStack(t, f, "app", "app", func(s *v1alpha1.Stack) { s.Spec.ServiceAccountName = "deployer" })
	s := waitStackFailed(t, key, v1alpha1.ReasonValidationFailed, rev)
	msg := stackReady(s).Message
	for _, want := range []string{"Secret/" + ns + "/forbidden", "forbidden", "system:serviceaccount:" + ns + ":deployer"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message must contain %q: %q", want, msg)
		}
	}
	if strings.Contains(msg, "ConfigMap/"+ns+"/allowed") {
		t.Errorf("the allowed ConfigMap is not a refused object: %q", msg)
	}
	_, err := getConfigMap(t, ns, "allowed")
	notFound(t, "the ConfigMap of a refused revision (dry-run first)", err)
	notFound(t, "the Secret", get(t, client.ObjectKey{Namespace: ns, Name: "forbidden"}, &corev1.Secret{}))

	rev = f.update(t, map[string]string{"app/secret.yaml": "", "app/cm2.yaml": configMap(ns, "allowed-too", "2")})
	s = waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)
	for _, name := range []string{"allowed", "allowed-too"} {
		cm, err := getConfigMap(t, ns, name)
		if err != nil {
			t.Errorf("configmap %s: %v", name, err)
			continue
		}
		if cm.Labels["stack.flotilla.io/name"] != "app" {
			t.Errorf("configmap %s labels = %v", name, cm.Labels)
		}
		if !managedBy(cm.ManagedFields, "flotilla") {
			t.Errorf("configmap %s not applied by field manager flotilla: %+v", name, cm.ManagedFields)
		}
	}
	if got := strings.Join(inventoryNames(s), ","); got != "ConfigMap/allowed,ConfigMap/allowed-too" {
		t.Errorf("inventory = %s", got)
	}
}

func managedBy(fields []metav1.ManagedFieldsEntry, manager string) bool {
	for _, f := range fields {
		if f.Manager == manager && f.Operation == metav1.ManagedFieldsOperationApply {
			return true
		}
	}
	return false
}

// 8. Values read from Secrets never appear in status or events.
func TestStackScenarioSecretValuesNeverLeak(t *testing.T) {
	// Uppercase letters make the value an invalid object name.
	marker := "leak-marker-Q" + rand.Text()[:12]
	f, rev := scenario(t, func(ns string) map[string]string {
		return map[string]string{"app/cm.yaml": fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${TOKEN}\n  namespace: %s\ndata:\n  k: v\n", ns)}
	})
	ns := f.ns
	createSecret(t, ns, "vars", map[string][]byte{"TOKEN": []byte(marker)})
	key := createStack(t, f, "app", "app", func(s *v1alpha1.Stack) {
		s.Spec.PostBuild = &v1alpha1.PostBuild{SubstituteFrom: []v1alpha1.SubstituteReference{{Kind: "Secret", Name: "vars"}}}
	})
	s := waitStackFailed(t, key, v1alpha1.ReasonValidationFailed, rev)
	msg := stackReady(s).Message
	// The API server quotes the invalid name; Flotilla masks it.
	if !strings.Contains(msg, `ConfigMap "`+redact.Mask+`" is invalid: metadata.name`) {
		t.Errorf("message must show the server's refusal of the name, masked: %q", msg)
	}

	// Wait for the Warning event of this failure, so that events are checked.
	eventually(t, "the ValidationFailed event", func() error {
		var evs eventsv1.EventList
		if err := env.Client.List(context.Background(), &evs, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Regarding.Kind == v1alpha1.StackKind && e.Regarding.Name == "app" && e.Type == corev1.EventTypeWarning && e.Reason == v1alpha1.ReasonValidationFailed {
				return nil
			}
		}
		return fmt.Errorf("%d events, none Warning ValidationFailed on the Stack", len(evs.Items))
	})

	surfaces, coreEvents := stackSurfaces(t, ns, key)
	forms := []string{marker, base64.StdEncoding.EncodeToString([]byte(marker)), base64.RawStdEncoding.EncodeToString([]byte(marker))}
	for what, v := range surfaces {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		for _, form := range forms {
			if strings.Contains(string(b), form) {
				t.Errorf("the secret value (%q) leaks into the %s: %s", form, what, b)
			}
		}
	}
	if coreEvents == 0 {
		t.Errorf("core/v1 must list the Stack's events too")
	}
}

// 9. An empty render refuses to prune without allowEmpty.
func TestStackScenarioEmptyRender(t *testing.T) {
	f, _ := scenario(t, func(ns string) map[string]string {
		return map[string]string{"app/a.yaml": configMap(ns, "a", "1"), "app/b.yaml": configMap(ns, "b", "1")}
	})
	ns := f.ns
	key := createStack(t, f, "app", "app")
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "")

	rev := f.update(t, map[string]string{"app/a.yaml": "", "app/b.yaml": "", "app/README.md": "kept for the directory\n"})
	s := waitStackFailed(t, key, v1alpha1.ReasonBuildFailed, rev)
	stalledCond := meta.FindStatusCondition(s.Status.Conditions, v1alpha1.StalledCondition)
	if stalledCond == nil || stalledCond.Status != metav1.ConditionTrue || stalledCond.Reason != v1alpha1.ReasonBuildFailed {
		t.Errorf("Stalled = %+v, want True BuildFailed", stalledCond)
	}
	msg := stackReady(s).Message
	for _, want := range []string{"refusing to prune", "allowEmpty"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message must contain %q: %q", want, msg)
		}
	}
	for _, name := range []string{"a", "b"} {
		if _, err := getConfigMap(t, ns, name); err != nil {
			t.Errorf("configmap %s must stay: %v", name, err)
		}
	}
	if len(s.Status.Inventory) != 2 {
		t.Errorf("inventory must stay: %v", inventoryNames(s))
	}

	patchStack(t, key, func(s *v1alpha1.Stack) { s.Spec.AllowEmpty = true })
	s = waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)
	for _, name := range []string{"a", "b"} {
		_, err := getConfigMap(t, ns, name)
		notFound(t, "configmap "+name+" after allowEmpty", err)
	}
	if len(s.Status.Inventory) != 0 {
		t.Errorf("inventory must be empty: %v", inventoryNames(s))
	}
	if c := s.Status.LastChange; c == nil || c.Deleted != 2 {
		t.Errorf("lastChange = %+v, want 2 deleted", c)
	}
	if meta.FindStatusCondition(s.Status.Conditions, v1alpha1.StalledCondition) != nil {
		t.Errorf("Stalled must be cleared: %+v", s.Status.Conditions)
	}
}

// 10. A suspended Stack does not apply new revisions; resuming does.
func TestStackScenarioSuspend(t *testing.T) {
	f, first := scenario(t, func(ns string) map[string]string {
		return map[string]string{"app/a.yaml": configMap(ns, "a", "1")}
	})
	ns := f.ns
	key := createStack(t, f, "app", "app")
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, first)

	patchStack(t, key, func(s *v1alpha1.Stack) { s.Spec.Suspend = true })
	eventually(t, "suspend observed", func() error {
		s := &v1alpha1.Stack{}
		if err := get(t, key, s); err != nil {
			return err
		}
		if !s.Spec.Suspend || s.Status.ObservedGeneration != s.Generation {
			return fmt.Errorf("observedGeneration %d, generation %d", s.Status.ObservedGeneration, s.Generation)
		}
		return nil
	})
	second := f.update(t, map[string]string{"app/a.yaml": configMap(ns, "a", "2")})
	time.Sleep(2500 * time.Millisecond)
	s := &v1alpha1.Stack{}
	if err := get(t, key, s); err != nil {
		t.Fatal(err)
	}
	if s.Status.LastAppliedRevision != first {
		t.Errorf("a suspended Stack applied %s (want it to stay at %s)", s.Status.LastAppliedRevision, first)
	}
	if cm, _ := getConfigMap(t, ns, "a"); cm.Data["value"] != "1" {
		t.Errorf("a suspended Stack changed the object: %v", cm.Data)
	}

	patchStack(t, key, func(s *v1alpha1.Stack) { s.Spec.Suspend = false })
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, second)
	if cm, _ := getConfigMap(t, ns, "a"); cm.Data["value"] != "2" {
		t.Errorf("resuming must apply the new revision: %v", cm.Data)
	}
}

// 11. Status and events tell what an apply did.
func TestStackScenarioStatusTellsWhatHappened(t *testing.T) {
	f, _ := scenario(t, func(ns string) map[string]string {
		return map[string]string{
			"app/configured.yaml": configMap(ns, "configured", "1"),
			"app/deleted.yaml":    configMap(ns, "deleted", "1"),
			"app/unchanged.yaml":  configMap(ns, "unchanged", "1"),
		}
	})
	ns := f.ns
	key := createStack(t, f, "app", "app")
	waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "")

	rev := f.update(t, map[string]string{
		"app/configured.yaml": configMap(ns, "configured", "2"),
		"app/deleted.yaml":    "",
		"app/created.yaml":    configMap(ns, "created", "1"),
	})
	s := waitStack(t, key, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, rev)
	want := v1alpha1.ChangeSummary{Created: 1, Configured: 1, Unchanged: 1, Deleted: 1}
	if c := s.Status.LastChange; c == nil || *c != want {
		t.Errorf("lastChange = %+v, want %+v", c, want)
	}
	const counts = "1 created, 1 configured, 1 unchanged, 1 deleted"
	wantMsg := "applied revision " + rev + ": " + counts
	if msg := stackReady(s).Message; msg != wantMsg {
		t.Errorf("Ready message = %q, want %q", msg, wantMsg)
	}
	eventually(t, "a Normal Succeeded event for the revision", func() error {
		var evs eventsv1.EventList
		if err := env.Client.List(context.Background(), &evs, client.InNamespace(ns)); err != nil {
			return err
		}
		var seen []string
		for _, e := range evs.Items {
			if e.Regarding.Kind == v1alpha1.StackKind && e.Regarding.Name == "app" && e.Type == corev1.EventTypeNormal &&
				e.Reason == v1alpha1.ReasonSucceeded && e.Note == wantMsg {
				return nil
			}
			seen = append(seen, e.Type+"/"+e.Reason+": "+e.Note)
		}
		return fmt.Errorf("events: %q", seen)
	})
}

// createDeployer creates the ServiceAccount "deployer" in ns, allowed to
// manage ConfigMaps there (RoleBinding "deployer-configmaps") and nothing else.
func createDeployer(t *testing.T, ns string) {
	t.Helper()
	for _, o := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deployer"}},
		&rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "configmaps"},
			Rules: []rbacv1.PolicyRule{{
				APIGroups: []string{""}, Resources: []string{"configmaps"},
				Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"},
			}},
		},
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deployer-configmaps"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "configmaps"},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "deployer", Namespace: ns}},
		},
	} {
		if err := env.Client.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
}
