#include "index_holder.hpp"

#include <iostream>

#include "json_format.hpp"

namespace hloc::serve {

namespace {

// Phones per treatment: GET /v1/sites promises "sites with phones", which site_json leaves to
// the nearest answer. Added beside the shared shape, never renaming a field of it.
api::Json site_with_phones_json(const SiteView& site) {
    api::Json s = api::site_json(site);
    api::Json phones = api::Json::object();
    for (std::size_t i = 0; i < site.treatments.size() && i < site.phones.size(); ++i) {
        phones[std::string(site.treatments[i])] = api::phone_json(site.phones[i]);
    }
    s["phones"] = std::move(phones);
    return s;
}

}  // namespace

IndexHolder::IndexHolder(std::filesystem::path file, bool resident)
    : file_(std::move(file)), resident_(resident) {}

std::shared_ptr<const LoadedIndex> IndexHolder::reload() {
    std::lock_guard lock(reload_mutex_);
    try {
        // Verify the checksum: a reload is rare, and a corrupt file must be refused, not served.
        auto engine = Engine::open(
            file_, {.verify_checksum = true, .preload_reverse = true, .resident = resident_});
        auto loaded = std::make_shared<LoadedIndex>(
            LoadedIndex{std::move(engine), {}, file_, {}, {}, {}, {}, {}, {}});
        loaded->info = loaded->engine.info();
        api::Json sites = api::Json::array();
        for (const auto& s : loaded->engine.sites()) {
            auto one = site_with_phones_json(s);
            loaded->site_bodies.push_back(
                one.dump(-1, ' ', false, api::Json::error_handler_t::replace));
            sites.push_back(std::move(one));
        }
        loaded->sites_body = sites.dump(-1, ' ', false, api::Json::error_handler_t::replace);
        loaded->treatments_body = api::treatments_json(loaded->engine.treatments())
                                      .dump(-1, ' ', false, api::Json::error_handler_t::replace);
        loaded->info_body =
            api::info_json(loaded->info).dump(-1, ' ', false, api::Json::error_handler_t::replace);
        loaded->ready_body =
            api::Json{{"status", "ready"}, {"checksum", loaded->info.checksum}}.dump(
                -1, ' ', false, api::Json::error_handler_t::replace);
        loaded->nearest = NearestText(loaded->engine);
        if (const auto difference = loaded->nearest.verify(loaded->engine); !difference.empty()) {
            // Correct answers either way; this only costs speed, and says why.
            std::cerr << ("fast nearest rendering disabled: it differs from api::nearest_json " +
                          difference + "\n");
        }
        std::shared_ptr<const LoadedIndex> published = std::move(loaded);
        current_.store(published, std::memory_order_release);
        generation_.fetch_add(1, std::memory_order_acq_rel);
        return published;
    } catch (...) {
        failed_.fetch_add(1, std::memory_order_relaxed);
        throw;
    }
}

}  // namespace hloc::serve
