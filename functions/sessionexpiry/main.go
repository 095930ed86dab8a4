// Command sessionexpiry is the SessionExpiryFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartStream("SessionExpiryFunction", app.SessionExpiry) }
