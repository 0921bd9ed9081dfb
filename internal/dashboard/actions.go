package dashboard

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// Actions a POST may ask for.
const (
	actionReconcile = "reconcile"
	actionSuspend   = "suspend"
	actionResume    = "resume"
)

// serveAction is POST .../stacks/{namespace}/{name}/{reconcile,suspend,resume}:
// a merge patch of the Stack with the user's credentials, so their RBAC
// decides; 204 when it is done.
func (s *Server) serveAction(w http.ResponseWriter, r *http.Request) {
	if code, msg := s.refuseAction(r); code != 0 {
		writeError(w, code, msg)
		return
	}
	action := r.PathValue("action")
	patch, err := actionPatch(action, time.Now())
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	wt, err := s.watcherOf(r.PathValue("cluster"))
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	st := &v1alpha1.Stack{}
	st.Namespace, st.Name = r.PathValue("namespace"), r.PathValue("name")
	if err := wt.direct.Patch(ctx, st, client.RawPatch(types.MergePatchType, patch)); err != nil {
		code, msg := statusError(err)
		writeError(w, code, fmt.Sprintf("%s of Stack %s/%s in %s: %s", action, st.Namespace, st.Name, wt.name, msg))
		return
	}
	s.opts.Log.Info("action", "action", action, "cluster", wt.name, "stack", st.Namespace+"/"+st.Name)
	w.WriteHeader(http.StatusNoContent)
}

// refuseAction returns 403 and why, unless the server allows actions and
// the request carries the page's token; 0 to go on.
func (s *Server) refuseAction(r *http.Request) (int, string) {
	if !s.opts.AllowActions {
		return http.StatusForbidden, "actions are off: start the dashboard with --allow-actions to reconcile, suspend or resume"
	}
	got := r.Header.Get(TokenHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) != 1 {
		return http.StatusForbidden, "missing or wrong " + TokenHeader + " header: reload the page"
	}
	return 0, ""
}

// actionPatch is the merge patch of an action, as the CLI's: reconcile
// sets the reconcile-requested-at annotation, suspend and resume
// spec.suspend (resume also requests a reconcile, as `flotilla resume`).
func actionPatch(action string, now time.Time) ([]byte, error) {
	at := now.UTC().Format(time.RFC3339Nano)
	annotations := map[string]any{"annotations": map[string]string{v1alpha1.ReconcileRequestAnnotation: at}}
	var patch map[string]any
	switch action {
	case actionReconcile:
		patch = map[string]any{"metadata": annotations}
	case actionSuspend:
		patch = map[string]any{"spec": map[string]any{"suspend": true}}
	case actionResume:
		patch = map[string]any{"metadata": annotations, "spec": map[string]any{"suspend": false}}
	default:
		return nil, fmt.Errorf("unknown action %q: use reconcile, suspend or resume", action)
	}
	return json.Marshal(patch)
}
