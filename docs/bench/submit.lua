-- Submits dossiers without attachments as fast as the server takes them.
-- Usage: TOKEN=$(motcua token --user demo-citizen) wrk -s docs/bench/submit.lua URL
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"procedure":"1.001193","agency":"001.00.00.H31","channel":"online",' ..
  '"form":{"ho_ten_tre":"Nguyễn Minh Khôi","ngay_sinh":"2026-11-01","noi_sinh":"Hải Phòng"}}'
