-- wrk script: rotates GET requests over the paths in $GB_PATHS (space
-- separated), or POSTs the body in $GB_BODY_FILE to $GB_POST_PATH, with
-- the bearer token in $GB_TOKEN.
local token = os.getenv("GB_TOKEN")
local headers = {["Authorization"] = "Bearer " .. token}
local paths = {}
for p in string.gmatch(os.getenv("GB_PATHS") or "", "%S+") do
   paths[#paths + 1] = p
end
local post_path = os.getenv("GB_POST_PATH")
local body = nil
if post_path ~= nil and post_path ~= "" then
   local f = assert(io.open(os.getenv("GB_BODY_FILE"), "rb"))
   body = f:read("*a")
   f:close()
   headers["Content-Type"] = "application/json"
end
local i = 0
local errors = 0

request = function()
   if body ~= nil then
      return wrk.format("POST", post_path, headers, body)
   end
   i = i + 1
   return wrk.format("GET", paths[(i % #paths) + 1], headers)
end

response = function(status, hdrs, b)
   if status ~= 200 then
      errors = errors + 1
      if errors <= 3 then
         io.stderr:write("unexpected status " .. status .. ": " .. b:sub(1, 200) .. "\n")
      end
   end
end
