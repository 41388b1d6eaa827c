-- Rotates through a mix of catalogue searches, as people type them.
local queries = {
  "dang%20ky%20khai%20sinh", "%C4%90%C4%83ng%20k%C3%BD%20khai%20sinh", "giay%20phep%20xay%20dung",
  "chung%20thuc%20ban%20sao", "ho%20kinh%20doanh", "tro%20cap%20xa%20hoi%20hang%20thang",
  "giay%20phep%20lai%20xe", "9.000123", "ket%20hon", "dat%20dai"
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/procedures?limit=20&q=" .. queries[(i % #queries) + 1])
end
