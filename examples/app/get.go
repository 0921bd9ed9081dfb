package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// getURL is the app's client mode, `app get URL`: it prints the body of a GET
// and fails on a status other than 200. Inside a Pod (the image has no
// shell or curl) it checks that the cluster's DNS and Services work:
// `kubectl exec POD -- /app get http://app.demo.svc:8080/version`.
func getURL(ctx context.Context, url string, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	_, err = io.Copy(stdout, io.LimitReader(resp.Body, 1<<20))
	return err
}
