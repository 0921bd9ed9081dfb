//go:build unix

// Command pause is the test node's pod sandbox: it blocks until SIGTERM or
// SIGINT and exits 0, like Kubernetes' pause. As PID 1 it also reaps the
// zombie children a shared PID namespace leaves to it.
//
// Its image is built with ociimage.FromBinary; nothing here is pulled.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// readyLine is printed once the signals are handled.
const readyLine = "pause: waiting for SIGTERM or SIGINT"

func main() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	fmt.Fprintln(os.Stderr, readyLine)
	for sig := range signals {
		if sig == syscall.SIGCHLD {
			reap()
			continue
		}
		fmt.Fprintf(os.Stderr, "pause: %s, exiting\n", sig)
		return
	}
}

// reap waits for every child that has exited, so none stays a zombie.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
