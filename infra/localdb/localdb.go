// Package localdb starts a DynamoDB-protocol server (moto, served
// single-threaded) on a free loopback port for local runs and tests, and
// creates the template's tables in any DynamoDB endpoint.
package localdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/samtemplate"
)

// Server is a running moto process.
type Server struct {
	Endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
	stderr   *bytes.Buffer
}

// Start launches infra/moto/server.py (found under root) on a free
// loopback port and waits until it answers. The caller must Stop it.
func Start(ctx context.Context, root string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	python := os.Getenv("PYTHON")
	if python == "" {
		python = "python3"
	}
	script := filepath.Join(root, "infra", "moto", "server.py")
	cmd := exec.Command(python, script, "--port", fmt.Sprint(port))
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto: %w", err)
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{}), stderr: &stderr}
	go func() { _ = cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-s.done:
			return nil, fmt.Errorf("moto exited before it was ready: %s", strings.TrimSpace(stderr.String()))
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		default:
		}
		resp, err := http.Get(s.Endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, errors.New("moto did not answer within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stop ends the server by its own PID and waits for it.
func (s *Server) Stop() {
	if s == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Pause stops the server process (SIGSTOP) so that calls to it hang;
// Resume continues it. Fault tests use them.
func (s *Server) Pause() error { return s.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused server.
func (s *Server) Resume() error { return s.cmd.Process.Signal(syscall.SIGCONT) }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// TableNames maps a table's logical ID to its physical name.
type TableNames map[string]string

// CreateTables creates every table of the template (keys, GSIs, TTL,
// streams) under the given names, skipping tables that exist.
func CreateTables(ctx context.Context, db *dynamodb.Client, t *samtemplate.Template, names TableNames) error {
	ids := make([]string, 0, len(t.Tables))
	for id := range t.Tables {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		tab := t.Tables[id]
		name := names[id]
		if name == "" {
			name = id
		}
		in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest}
		for attr, typ := range tab.Attributes {
			in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
				AttributeName: aws.String(attr), AttributeType: types.ScalarAttributeType(typ)})
		}
		sort.Slice(in.AttributeDefinitions, func(i, j int) bool {
			return *in.AttributeDefinitions[i].AttributeName < *in.AttributeDefinitions[j].AttributeName
		})
		in.KeySchema = keySchema(tab.HashKey, tab.RangeKey)
		for _, g := range tab.GSIs {
			in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
				IndexName: aws.String(g.Name), KeySchema: keySchema(g.HashKey, g.RangeKey),
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}})
		}
		if tab.StreamView != "" {
			in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true),
				StreamViewType: types.StreamViewType(tab.StreamView)}
		}
		if _, err := db.CreateTable(ctx, in); err != nil {
			var inUse *types.ResourceInUseException
			if !errors.As(err, &inUse) {
				return fmt.Errorf("create table %s: %w", name, err)
			}
		}
		if tab.TTLAttribute != "" {
			_, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
				TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(tab.TTLAttribute), Enabled: aws.Bool(true)}})
			if err != nil && !strings.Contains(err.Error(), "already enabled") {
				return fmt.Errorf("enable TTL on %s: %w", name, err)
			}
		}
	}
	return nil
}

func keySchema(hash, rng string) []types.KeySchemaElement {
	ks := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}}
	if rng != "" {
		ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange})
	}
	return ks
}
