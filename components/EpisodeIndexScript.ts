/**
 * The episode index's island (components/EpisodeBrowser.tsx): an inline
 * script, no framework. It reads the list embedded as JSON, applies the query
 * in the URL (q, series, tag, sort, page) the way lib/site/list.ts does —
 * same matching, sorting and paging — and redraws the count, the cards and
 * the paging links; form changes replace the URL's query, paging links push
 * it, back/forward redraw. The server-rendered default view stays untouched
 * until the reader changes something (or arrives with a query): no layout
 * shift on load, nothing to hydrate.
 */
export const EPISODE_INDEX_SCRIPT = `(function(){
var P="episodes",$=function(s){return document.getElementById(P+s)},data;
try{data=JSON.parse($("-data").textContent)}catch(e){return}
var S=data.strings,L=data.labels,items=data.items,form=document.querySelector("#"+P+" form"),res=$("-results"),count=$("-count"),nav=$("-pages");
var SORTS=["newest","oldest","confidence"];
function norm(s){return s.toLocaleLowerCase().normalize("NFKC")}
function pad(n){n=String(n);while(n.length<3)n="0"+n;return n}
items.forEach(function(i){i.hay=norm([i.title,i.summary,i.series,"ep-"+pad(i.episode)].concat(i.tags,i.models).join(" \\u0000 "))});
function read(){var p=new URLSearchParams(location.search),sort=p.get("sort")||"",page=parseInt(p.get("page")||"",10);
return{q:(p.get("q")||"").slice(0,200),series:p.get("series")||"",tag:p.get("tag")||"",sort:SORTS.indexOf(sort)>=0?sort:"newest",page:page>=1?page:1}}
function qs(q){var p=new URLSearchParams();if(q.q)p.set("q",q.q);if(q.series)p.set("series",q.series);if(q.tag)p.set("tag",q.tag);if(q.sort!=="newest")p.set("sort",q.sort);if(q.page>1)p.set("page",String(q.page));var s=p.toString();return s?"?"+s:""}
function apply(q){var terms=norm(q.q).split(/\\s+/).filter(Boolean);
var f=items.filter(function(i){return(!q.series||i.series===q.series)&&(!q.tag||i.tags.indexOf(q.tag)>=0)&&terms.every(function(t){return i.hay.indexOf(t)>=0})});
f.sort(function(a,b){if(q.sort==="oldest")return a.date.localeCompare(b.date)||a.episode-b.episode;if(q.sort==="confidence")return b.confidence-a.confidence||b.date.localeCompare(a.date);return b.date.localeCompare(a.date)||b.episode-a.episode});
var pages=Math.max(1,Math.ceil(f.length/data.pageSize)),page=Math.min(q.page,pages);return{items:f.slice((page-1)*data.pageSize,page*data.pageSize),total:f.length,page:page,pages:pages}}
function el(tag,cls,text){var e=document.createElement(tag);if(cls)e.className=cls;if(text!=null)e.textContent=text;return e}
function card(i){var li=el("li","episode-card"),art=el("article"),eb=el("p","eyebrow"),other=i.fallback?i.contentLang:null;
eb.appendChild(el("span",null,L.seriesNames[i.series]||i.series));eb.appendChild(document.createTextNode(" \\u00b7 "));
eb.appendChild(el("span",null,L.episode.replace("{n}",String(i.episode))));eb.appendChild(document.createTextNode(" \\u00b7 "));
var t=el("time",null,i.dateLabel);t.dateTime=i.date;eb.appendChild(t);
if(i.sample){eb.appendChild(document.createTextNode(" "));eb.appendChild(el("span","badge badge-sample",L.sampleData))}
if(i.fallback){eb.appendChild(document.createTextNode(" "));eb.appendChild(el("span","badge",L.originalLanguage))}
art.appendChild(eb);var h=el("h2","card-title"),a=el("a",null,i.title);a.href=i.href;if(other)h.lang=other;h.appendChild(a);art.appendChild(h);
var s=el("p","summary",i.summary);if(other)s.lang=other;art.appendChild(s);
if(i.tags.length){var ul=el("ul","tags");ul.setAttribute("aria-label",L.tags);i.tags.forEach(function(tag){var l=el("li"),ta=el("a",null,tag);ta.href=L.tagBase+encodeURIComponent(tag);l.appendChild(ta);ul.appendChild(l)});art.appendChild(ul)}
li.appendChild(art);return li}
function pageLink(q,page,rel,label){var a=el("a",null,label);a.rel=rel;a.href=qs({q:q.q,series:q.series,tag:q.tag,sort:q.sort,page:page})||"?";
a.addEventListener("click",function(e){if(e.metaKey||e.ctrlKey||e.shiftKey||e.button!==0)return;e.preventDefault();var n=read();n.page=page;history.pushState(null,"",location.pathname+qs(n));draw();res.focus()});return a}
function draw(){var q=read(),r=apply(q);
form.q.value=q.q;form.series.value=q.series;form.tag.value=q.tag;form.sort.value=q.sort;
count.textContent=items.length===0?S.noEpisodes:r.total===0?S.noResults:r.total===1?S.resultsOne:S.resultsMany.replace("{n}",String(r.total));
var ol=el("ol","episode-list");r.items.forEach(function(i){ol.appendChild(card(i))});res.replaceChildren(ol);
nav.replaceChildren(r.page>1?pageLink(q,r.page-1,"prev","\\u2190 "+S.previousPage):el("span"),el("span",null,S.pageOf.replace("{n}",String(r.page)).replace("{of}",String(r.pages))),r.page<r.pages?pageLink(q,r.page+1,"next",S.nextPage+" \\u2192"):el("span"));
nav.hidden=r.pages<=1}
function update(){var q=read();q.q=form.q.value;q.series=form.series.value;q.tag=form.tag.value;q.sort=form.sort.value;q.page=1;history.replaceState(null,"",location.pathname+qs(q));draw()}
form.addEventListener("input",update);form.addEventListener("change",update);form.addEventListener("submit",function(e){e.preventDefault();update()});
window.addEventListener("popstate",draw);
if(location.search)draw();else{var links=nav.querySelectorAll("a");for(var k=0;k<links.length;k++){(function(a){var n=parseInt(new URLSearchParams(a.search).get("page")||"1",10);a.replaceWith(pageLink(read(),n,a.rel,a.textContent))})(links[k])}}
})();`;
