package dashboard

import (
	"errors"
	"net/http"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestServerURLDropsUserInformation(t *testing.T) {
	for in, want := range map[string]string{
		"https://10.0.0.1:6443":                   "https://10.0.0.1:6443",
		"https://admin:s3cret@10.0.0.1:6443/base": "https://10.0.0.1:6443/base",
		"https://token@api.example.com":           "https://api.example.com",
		"https://api.example.com/a@b":             "https://api.example.com/a@b",
	} {
		if got := serverURL(in); got != want {
			t.Errorf("serverURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKindErrorNamesTheKindAndWhy(t *testing.T) {
	gr := schema.GroupResource{Group: "flotilla.io", Resource: "canaries"}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{apierrors.NewForbidden(gr, "", errors.New("no")), "canaries: forbidden: your RBAC does not let you list them"},
		{apierrors.NewNotFound(gr, ""), "canaries: not installed: the cluster has no CRD for them"},
	} {
		if got := kindError("canaries", tc.err).Error(); got != tc.want {
			t.Errorf("kindError(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestStatusErrorKeepsTheAPIServersAnswer(t *testing.T) {
	gr := schema.GroupResource{Group: "flotilla.io", Resource: "stacks"}
	for _, tc := range []struct {
		err  error
		code int
	}{
		{apierrors.NewForbidden(gr, "apps", errors.New("no")), http.StatusForbidden},
		{apierrors.NewNotFound(gr, "apps"), http.StatusNotFound},
		{errors.New("connection refused"), http.StatusBadGateway},
	} {
		if code, msg := statusError(tc.err); code != tc.code || msg == "" {
			t.Errorf("statusError(%v) = %d %q, want %d with a message", tc.err, code, msg, tc.code)
		}
	}
}
