-- wrk script: registers a room per request, as the host whose token is in $TOKEN.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"name":"Bench loft","address":"1 Bench-ro","city":"Busan","price":80000,"capacity":2}'
