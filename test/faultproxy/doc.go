// Package faultproxy is a test helper: an HTTPS reverse proxy in front of a
// real kube-apiserver that injects faults into chosen requests. Clients reach
// it through an ordinary rest.Config (or a kubeconfig file), so client-go's
// whole path runs: TLS, HTTP/1.1 connections, retries, watches. Rules match
// requests by method, path, query and body, skip the first N matches and
// then answer 503, stall, or reset the TCP connection, before or after the
// request reached the API server. Rules change at run time.
//
// It is for fault tests of the controllers and the agent. It is not a
// general proxy: it authenticates to the API server with the upstream
// config's credentials, whoever the client is, and forwards impersonation
// headers as they come.
package faultproxy
