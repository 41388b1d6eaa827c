-- Submits dossiers without attachments as fast as the server takes them: the social pension
-- (1.014027), whose request letter the e-form replaces, with a valid generic e-form.
-- Usage: TOKEN=$(motcua token --user demo-citizen) wrk -s docs/bench/submit.lua URL
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"procedure":"1.014027","agency":"001.00.00.H31","channel":"online",' ..
  '"form":{"ho_ten":"Nguyễn Văn An","so_dinh_danh":"031201001234","dien_thoai":"0912345678",' ..
  '"dia_chi":"12 Điện Biên Phủ, phường Hồng Bàng","noi_dung":"Đề nghị hưởng trợ cấp hưu trí xã hội"}}'
