package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
)

// Client calls the local gateway over loopback with a transport tuned for
// many concurrent workers: one kept-alive connection per worker, no
// compression (the gateway does not compress; the client should not pay
// for asking), no redirects, and a dialer that refuses any address but
// 127.0.0.1.
type Client struct {
	base string
	hc   *http.Client
}

// ErrNotLoopback is returned for a base URL that is not on 127.0.0.1.
var ErrNotLoopback = errors.New("load: the target must be http://127.0.0.1:<port>")

// NewClient returns a client for base (http://127.0.0.1:port) sized for
// conns concurrent requests.
func NewClient(base string, conns int) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" {
		return nil, ErrNotLoopback
	}
	dialer := &net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil || host != "127.0.0.1" {
				return fmt.Errorf("%w (dialling %s)", ErrNotLoopback, address)
			}
			return nil
		}}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		MaxIdleConns:          conns + 8,
		MaxIdleConnsPerHost:   conns + 8,
		MaxConnsPerHost:       conns + 8,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
		WriteBufferSize:       64 << 10,
		ReadBufferSize:        64 << 10,
	}
	return &Client{base: u.Scheme + "://" + u.Host, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, nil
}

// Close drops the idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Response is an answer read in full.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends one request with key (as X-API-Key, or as a bearer token when
// bearer is set) and reads the whole answer. It returns an error only when
// no answer came.
func (c *Client) Do(ctx context.Context, method, path, key string, bearer bool, contentType string, body []byte) (Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return Response{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		if bearer {
			req.Header.Set("Authorization", "Bearer "+key)
		} else {
			req.Header.Set("X-API-Key", key)
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, fmt.Errorf("read the answer to %s %s: %w", method, path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: out}, nil
}
