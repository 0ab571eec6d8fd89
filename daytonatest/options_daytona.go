package daytonatest

import "github.com/agentworkspace/daytona"

// Options returns the options that point a daytona.Sandbox at this server:
// its API URL and key, with daytona.WithoutEnvironment so that a
// developer's DAYTONA_API_KEY, DAYTONA_API_URL and .env files are not used
// (see WithoutEnvironment for what the SDK still reads). Append your own:
//
//	sb, err := daytona.New(append(srv.Options(), daytona.WithLanguage(daytona.Python))...)
func (s *Server) Options() []daytona.Option {
	return []daytona.Option{
		daytona.WithAPIURL(s.APIURL()),
		daytona.WithAPIKey(s.APIKey()),
		daytona.WithoutEnvironment(),
	}
}
