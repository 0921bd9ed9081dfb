// Command kube-proxy is the upstream Service proxy, built from the
// k8s.io/kubernetes module for Flotilla's real-node tests.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"            // JSON log format
	_ "k8s.io/component-base/metrics/prometheus/restclient" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"    // version metric
	"k8s.io/kubernetes/cmd/kube-proxy/app"
)

func main() {
	os.Exit(cli.Run(app.NewProxyCommand()))
}
