// Package secretstore is the local run's stand-in for AWS Secrets
// Manager: it answers GetSecretValue (the JSON protocol the SDK speaks)
// for the secrets the local run puts in it, so that the authorizer reads
// the master key locally through the very client and code path it uses
// in AWS (shared/masterkey). Only the authorizer is given the secret's
// name, and every function's client goes through its template policies
// (infra/iam).
package secretstore

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Store holds secrets by name.
type Store struct {
	region, account string

	mu      sync.Mutex
	secrets map[string]secret
}

type secret struct {
	arn, value, version string
	created             time.Time
}

// New returns an empty store in the region and account.
func New(region, account string) *Store {
	return &Store{region: region, account: account, secrets: map[string]secret{}}
}

// Put stores value as the current version of the secret name and returns
// the secret's ARN (name, a dash and six random characters, as Secrets
// Manager names them).
func (s *Store) Put(name, value string) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	var v [16]byte
	_, _ = rand.Read(v[:])
	arn := fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", s.region, s.account, name, hex.EncodeToString(b[:]))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[name] = secret{arn: arn, value: value, version: hex.EncodeToString(v[:]), created: time.Now()}
	return arn
}

// ARN returns the ARN of a secret given by name or ARN ("" when unknown).
func (s *Store) ARN(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec, ok := s.find(id); ok {
		return sec.arn
	}
	return ""
}

func (s *Store) find(id string) (secret, bool) {
	if sec, ok := s.secrets[id]; ok {
		return sec, true
	}
	for _, sec := range s.secrets {
		if sec.arn == id {
			return sec, true
		}
	}
	return secret{}, false
}

// ServeHTTP answers secretsmanager.GetSecretValue; any other call is
// refused as an unknown operation.
func (s *Store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
		fail(w, "UnknownOperationException", "the local secret store answers GetSecretValue only")
		return
	}
	var in struct {
		SecretID     string `json:"SecretId"`
		VersionStage string
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil || json.Unmarshal(b, &in) != nil || in.SecretID == "" {
		fail(w, "InvalidParameterException", "a secret id is required")
		return
	}
	s.mu.Lock()
	sec, ok := s.find(in.SecretID)
	s.mu.Unlock()
	if !ok || (in.VersionStage != "" && in.VersionStage != "AWSCURRENT") {
		fail(w, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	name := sec.arn[strings.LastIndex(sec.arn, ":")+1 : len(sec.arn)-7]
	_ = json.NewEncoder(w).Encode(map[string]any{"ARN": sec.arn, "Name": name, "SecretString": sec.value,
		"VersionId": sec.version, "VersionStages": []string{"AWSCURRENT"}, "CreatedDate": float64(sec.created.UnixMilli()) / 1000})
}

func fail(w http.ResponseWriter, typ, msg string) {
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}
