// Deterministic multilingual chat text: English, French (with accents), Japanese, Chinese words,
// Zipf-distributed so some words are everywhere and some are rare, like real chat.
export function rng(seed = 42) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const VOCAB = {
  en: `the you i to it and is a that of in what we for this have on are be not with just so do can at but
    me was my your all get if know like be will about good now up out one there they how see when going think
    time go right then no yes ok okay want here today tomorrow tonight meeting lunch dinner coffee later
    morning call back home work office thanks thank please sorry great nice cool love see soon maybe sure
    weekend friday monday train station airport ticket hotel flight project deadline report review release
    deploy server bug fix test build merge branch design budget invoice client contract schedule agenda
    birthday party present cake movie concert museum beach mountain holiday vacation weather rain snow sunny
    doctor appointment pharmacy groceries milk bread cheese apples bananas pizza sushi ramen noodles dumplings
    keyboard monitor laptop charger battery password router printer spreadsheet presentation whiteboard
    kangaroo xylophone quokka zeppelin marzipan harpsichord saxophone origami kaleidoscope labyrinth`,
  fr: `le la les de des un une et est à en que qui pour pas je tu il elle nous vous on ce ça avec sur dans
    très bien merci bonjour salut oui non peut-être demain ce soir aujourd'hui déjà été café thé déjeuner dîner
    réunion bureau travail maison voiture gare aéroport billet hôtel vol projet équipe écran problème
    réglé désolé génial bientôt là où après même être avoir fête anniversaire cadeau gâteau cinéma musée
    plage montagne vacances météo pluie neige soleil médecin rendez-vous pharmacie épicerie lait pain
    fromage pommes crème brûlée pâtes forêt fenêtre théâtre élève hôpital château garçon leçon naïf
    noël œuvre cœur sœur français québec montréal préféré intéressé réservé évidemment complètement`,
  ja: `東京 大阪 京都 会議 明日 今日 昨日 ありがとう すみません お疲れ様 よろしく 電車 駅 空港 ホテル
    ランチ 晩ご飯 コーヒー 仕事 会社 資料 締め切り 確認 連絡 予定 週末 天気 雨 雪 晴れ 誕生日 ケーキ
    映画 旅行 新幹線 富士山 桜 寿司 ラーメン 天ぷら 大丈夫 了解 遅れます 到着 出発 写真 音楽 電話
    メール パソコン 充電 会いましょう 楽しみ 頑張って おはよう こんばんは`,
  zh: `北京 上海 广州 深圳 明天 今天 昨天 谢谢 不好意思 开会 会议 地铁 机场 酒店 午饭 晚饭 咖啡 工作
    公司 项目 报告 确认 联系 周末 天气 下雨 下雪 晴天 生日 蛋糕 电影 旅行 高铁 长城 火锅 饺子 面条
    没问题 好的 收到 迟到 到了 出发 照片 音乐 电话 邮件 电脑 充电 见面 加油 早上好 晚上好 朋友 家人`,
};
for (const k of Object.keys(VOCAB)) VOCAB[k] = VOCAB[k].split(/\s+/).filter(Boolean);

/** Zipf-ish pick: index ~ floor(n * u^2.2) favours the first words of each list. */
function pick(list, r) {
  return list[Math.min(list.length - 1, Math.floor(list.length * r() ** 2.2))];
}

export function makeTextGen(seed = 7) {
  const r = rng(seed);
  return () => {
    const u = r();
    const lang = u < 0.5 ? 'en' : u < 0.75 ? 'fr' : u < 0.875 ? 'ja' : 'zh';
    const n = 3 + Math.floor(r() * 14);
    const words = [];
    for (let i = 0; i < n; i++) words.push(pick(VOCAB[lang], r));
    // Some code-switching, as in real chats.
    if (r() < 0.1) words.splice(Math.floor(r() * words.length), 0, pick(VOCAB[r() < 0.5 ? 'ja' : 'en'], r));
    if (lang === 'ja' || lang === 'zh') return words.join(r() < 0.7 ? '' : ' ') + (r() < 0.5 ? '。' : '！');
    const s = words.join(' ');
    return s[0].toUpperCase() + s.slice(1) + (r() < 0.3 ? '?' : r() < 0.5 ? '!' : '.');
  };
}

/** Search queries by kind; each kind is a list the benchmark cycles through. */
export const QUERIES = {
  'word (common en)': ['meeting', 'coffee', 'tomorrow', 'project', 'thanks', 'weekend'],
  'word (rare en)': ['kangaroo', 'xylophone', 'zeppelin', 'harpsichord', 'quokka', 'labyrinth'],
  prefix: ['meet', 'tomor', 'proj', 'birth', 'pres', 'kangar'],
  'accent-free fr': ['cafe', 'deja', 'ete', 'reunion', 'hotel', 'creme brulee', 'noel', 'chateau'],
  'accented fr': ['café', 'réunion', 'gâteau', 'théâtre', 'fenêtre', 'cœur'],
  'cjk ja': ['東京', '会議', '新幹線', 'ラーメン', '富士山', '締め切り'],
  'cjk zh': ['北京', '明天', '火锅', '长城', '没问题', '项目'],
  'two words': ['coffee tomorrow', 'meeting friday', 'café demain', 'project deadline', '東京 会議'],
};
