#!/usr/bin/env python3
"""Gets a real user token from a running pod, as a client would: registers
an app, logs in and consents on the page, exchanges the code.

    bench/pod_token.py BASE_URL USER PASSWORD "read write" [COUNT]

Prints the access token. With COUNT, gets COUNT tokens through one app (a
consent each) and prints the app's client_id and client_secret on the
first line, then one token per line; USER may then be a comma-separated
list of users sharing PASSWORD: COUNT tokens for each, user after user.
Standard library only.
"""
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

REDIRECT = "urn:ietf:wg:oauth:2.0:oob"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def main():
    base, user, password, scopes = sys.argv[1:5]
    count = int(sys.argv[5]) if len(sys.argv) > 5 else None
    opener = urllib.request.build_opener(NoRedirect)

    def post(path, fields, headers=None):
        data = urllib.parse.urlencode(fields).encode()
        req = urllib.request.Request(base + path, data=data, headers=headers or {})
        try:
            return opener.open(req)
        except urllib.error.HTTPError as e:  # 3xx answers arrive here
            return e

    app = json.load(post("/api/v1/apps", {
        "client_name": "load", "redirect_uris": REDIRECT, "scopes": scopes}))
    if count is not None:
        print(app["client_id"], app["client_secret"], flush=True)
    for name in user.split(",") if count is not None else [user]:
        for _ in range(count or 1):
            print(consent(opener, post, base, app, name, password, scopes), flush=True)


def consent(opener, post, base, app, user, password, scopes):
    """One authorization through the login and consent page: a token."""
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": app["client_id"],
        "redirect_uri": REDIRECT, "scope": scopes})
    page = opener.open(base + "/oauth/authorize?" + query)
    cookie = page.headers["Set-Cookie"].split(";")[0]
    html = page.read().decode()
    fields = dict(re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', html))
    fields.update({"username": user, "password": password, "decision": "approve"})
    answer = post("/oauth/authorize", fields, {"Cookie": cookie})
    body = answer.read().decode()
    location = answer.headers.get("Location")
    if location:
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    else:  # out of band: the page shows the code
        code = re.search(r'id="code">([^<]+)<', body).group(1)
    token = json.load(post("/oauth/token", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": app["client_id"], "client_secret": app["client_secret"]}))
    return token["access_token"]


if __name__ == "__main__":
    main()
