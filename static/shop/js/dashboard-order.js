/* Oscar 4.2's dashboard order page ends its start-up code with
   oscar.dashboard.orders.initTable(), but Oscar 4's dashboard.js no longer defines it (Oscar 3's
   did), so every order page threw "initTable is not a function". This puts back what it did:
   a box in the lines table's empty first header cell that ticks or clears every line. */
(function ($) {
    var orders = window.oscar && window.oscar.dashboard && window.oscar.dashboard.orders;
    if (!orders || orders.initTable) {
        return;
    }
    orders.initTable = function () {
        var $table = $("#order_lines_form table").first();
        var $all = $('<input type="checkbox" data-select-all-lines aria-label="Select all lines">');
        $table.find("thead th").first().empty().append($all);
        $all.on("change", function () {
            $table.find('tbody input[name="selected_line"]').prop("checked", this.checked);
        });
    };
})(jQuery);
