package faultproxy

import (
	"bytes"
	"net/http"
	"strings"
)

// Matcher selects requests by their request and body.
type Matcher func(r *http.Request, body []byte) bool

// All matches when every matcher does.
func All(ms ...Matcher) Matcher {
	return func(r *http.Request, body []byte) bool {
		for _, m := range ms {
			if !m(r, body) {
				return false
			}
		}
		return true
	}
}

// InNamespace matches requests to namespace ns's objects.
func InNamespace(ns string) Matcher {
	return func(r *http.Request, _ []byte) bool {
		return strings.Contains(r.URL.Path+"/", "/namespaces/"+ns+"/")
	}
}

// Method matches requests with method m.
func Method(m string) Matcher {
	return func(r *http.Request, _ []byte) bool { return r.Method == m }
}

// PathSuffix matches requests whose path ends with suffix.
func PathSuffix(suffix string) Matcher {
	return func(r *http.Request, _ []byte) bool { return strings.HasSuffix(r.URL.Path, suffix) }
}

// BodyContains matches requests whose body holds s.
func BodyContains(s string) Matcher {
	return func(_ *http.Request, body []byte) bool { return bytes.Contains(body, []byte(s)) }
}

// DryRun matches dry-run requests.
func DryRun(r *http.Request, _ []byte) bool { return r.URL.Query().Get("dryRun") != "" }

// Write matches requests that change something (not dry-runs, not reads).
func Write(r *http.Request, b []byte) bool {
	return !DryRun(r, b) && r.Method != http.MethodGet && r.Method != http.MethodHead
}

// ServerSideApply matches server-side apply patches that are not dry-runs.
func ServerSideApply(r *http.Request, b []byte) bool {
	return Write(r, b) && r.Method == http.MethodPatch &&
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/apply-patch")
}

// Created reports whether rec is a write the API server answered with 201
// Created (a create, or a server-side apply that created the object).
func Created(rec Record) bool { return rec.Status == http.StatusCreated }
