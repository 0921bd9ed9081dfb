// Command coredns is CoreDNS built from its Go module with only the plugins a
// test cluster's DNS needs (kubernetes, forward, cache, errors, health,
// ready, log), for Flotilla's real-node tests and demo. It is a module of
// its own so that CoreDNS's dependencies never meet the product's.
package main

import (
	_ "github.com/coredns/coredns/plugin/bind"       // bind
	_ "github.com/coredns/coredns/plugin/cache"      // cache
	_ "github.com/coredns/coredns/plugin/errors"     // errors
	_ "github.com/coredns/coredns/plugin/forward"    // forward
	_ "github.com/coredns/coredns/plugin/health"     // health
	_ "github.com/coredns/coredns/plugin/kubernetes" // kubernetes
	_ "github.com/coredns/coredns/plugin/log"        // log
	_ "github.com/coredns/coredns/plugin/ready"      // ready

	"github.com/coredns/coredns/coremain"
)

func main() {
	coremain.Run()
}
